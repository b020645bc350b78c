//! The page a machine waiting for approval sees (000 §5.4, 003 §23.3): in Vietnamese first, with
//! its MAC and IP and a short reference the IT officer finds it by; the MAC is looked up in the
//! kernel's neighbour table from the address the request came from.

use std::net::IpAddr;

/// The MAC the kernel's ARP table holds for `ip` (`/proc/net/arp` text), lowercase.
pub fn mac_of(arp_table: &str, ip: IpAddr) -> Option<String> {
    let want = ip.to_string();
    arp_table.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.len() >= 4 && f[0] == want && f[3] != "00:00:00:00:00:00")
            .then(|| f[3].to_ascii_lowercase())
    })
}

/// A short reference for a MAC (the same every time): `XXXX-XXXX`.
pub fn reference(mac: &str) -> String {
    // FNV-1a: stable across versions, no dependency; not a secret.
    let mut h: u32 = 0x811c_9dc5;
    for b in mac.to_ascii_lowercase().bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    let hex = format!("{h:08X}");
    format!("{}-{}", &hex[..4], &hex[4..])
}

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '&' => "&amp;".to_string(),
            '"' => "&quot;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// The page for a machine at `ip` with `mac` (if known), of the agency `agency`.
pub fn page(agency: &str, ip: IpAddr, mac: Option<&str>) -> String {
    let mac_text = mac.unwrap_or("(không xác định được / unknown)");
    let reference = mac.map(reference).unwrap_or_else(|| "—".into());
    format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
<title>Thiết bị đang chờ phê duyệt</title></head><body style=\"font-family:sans-serif;max-width:40em;margin:2em auto\">\
<h1>Thiết bị đang chờ phê duyệt</h1>\
<p>Máy này chưa có trong danh mục thiết bị của {agency}. Theo quy định, thiết bị chỉ được kết nối vào mạng khi người có thẩm quyền phê duyệt.</p>\
<p>Hãy liên hệ cán bộ phụ trách công nghệ thông tin và đọc cho họ:</p>\
<ul><li>Mã tham chiếu: <strong id=\"reference\">{reference}</strong></li>\
<li>Địa chỉ MAC: <strong id=\"mac\">{mac}</strong></li><li>Địa chỉ IP: {ip}</li></ul>\
<p>Sau khi được phê duyệt, máy dùng được mạng ngay, không cần cắm lại dây.</p>\
<hr><p lang=\"en\"><small>This device is waiting for approval by the agency's IT officer. Reference {reference}, MAC {mac}.</small></p>\
</body></html>",
        agency = escape(if agency.is_empty() {
            "cơ quan"
        } else {
            agency
        }),
        mac = escape(mac_text),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARP: &str = "IP address       HW type     Flags       HW address            Mask     Device\n\
10.10.0.150      0x1         0x2         02:ED:00:00:00:77     *        lan0\n\
10.10.0.151      0x1         0x0         00:00:00:00:00:00     *        lan0\n";

    #[test]
    fn the_page_names_the_machine_and_a_stable_reference() {
        let mac = mac_of(ARP, "10.10.0.150".parse().unwrap());
        assert_eq!(mac.as_deref(), Some("02:ed:00:00:00:77"));
        assert_eq!(
            mac_of(ARP, "10.10.0.151".parse().unwrap()),
            None,
            "incomplete entry"
        );
        let page = page("Sở <Test>", "10.10.0.150".parse().unwrap(), mac.as_deref());
        assert!(page.contains("Thiết bị đang chờ phê duyệt"));
        assert!(page.contains("02:ed:00:00:00:77"));
        assert!(page.contains(&reference("02:ED:00:00:00:77")));
        assert!(page.contains("Sở &lt;Test&gt;"), "escaped");
        assert_eq!(reference("02:ed:00:00:00:77").len(), 9);
    }
}
