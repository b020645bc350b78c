//! The device inventory of seed 000 Phụ lục I (user, type, brand, serial, MAC, IP, zone,
//! status, note) as CSV, and the `devices` section rewritten from a list of devices.

use edgeward_config::say;
use edgeward_config::{Device, DeviceStatus, DeviceType};
use serde::{Deserialize, Serialize};

pub const COLUMNS: [&str; 9] = [
    "user", "type", "brand", "serial", "mac", "ip", "zone", "status", "note",
];

/// A CSV import problem: the line (1 = header) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CsvProblem {
    pub line: u64,
    /// What is wrong, in English (the API).
    pub message: String,
    /// The same in both UI languages.
    #[serde(skip)]
    pub text: edgeward_config::Text,
}

impl CsvProblem {
    fn new(line: u64, text: edgeward_config::Text) -> CsvProblem {
        CsvProblem {
            line,
            message: text.en.clone(),
            text,
        }
    }
}

/// The serde name of a unit enum value (`wpa2-wpa3`, `ip-phone`), as the configuration writes it.
pub fn enum_name<T: Serialize>(v: &T) -> String {
    edgeward_config::validate::word(v)
}

/// The unit enum value with this serde name.
pub fn enum_value<T: for<'de> Deserialize<'de>>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

/// A cell as a spreadsheet may safely open it: text that would start a formula (`= + - @`,
/// tab, carriage return) gets a leading `'` (CSV injection); [`unneutralise`] takes it off.
pub fn neutralise(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// The cell as written before [`neutralise`].
pub fn unneutralise(cell: String) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_string(),
        _ => cell,
    }
}

pub fn export(devices: &[Device]) -> Result<String, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS).map_err(|e| e.to_string())?;
    for d in devices {
        w.write_record(
            [
                d.user.clone(),
                enum_name(&d.device_type),
                d.brand.clone(),
                d.serial.clone(),
                d.mac.clone(),
                d.ip.map(|i| i.to_string()).unwrap_or_default(),
                d.zone.clone(),
                enum_name(&d.status),
                d.note.clone(),
            ]
            .map(neutralise),
        )
        .map_err(|e| e.to_string())?;
    }
    let bytes = w.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// The columns of seed 000 Phụ lục I, exactly as the appendix prints them.
pub const ANNEX_COLUMNS: [&str; 6] = [
    "STT",
    "Họ tên người sử dụng",
    "Chủng loại thiết bị/ổ cứng",
    "Mã số thiết bị/ổ cứng",
    "Địa chỉ MAC (nếu có)",
    "Ghi chú",
];

/// A device class as the appendix names it (its examples: PC, Laptop, Server, Switch, Router,
/// Firewall, máy in, máy scan, Camera).
pub fn annex_type(t: edgeward_config::DeviceType) -> &'static str {
    use edgeward_config::DeviceType as T;
    match t {
        T::Pc => "PC",
        T::Laptop => "Laptop",
        T::Server => "Server",
        T::Printer => "Máy in",
        T::Scanner => "Máy scan",
        T::Camera => "Camera",
        T::IpPhone => "Điện thoại IP",
        T::Phone => "Điện thoại di động",
        T::Tablet => "Máy tính bảng",
        T::Switch => "Switch",
        T::Router => "Router",
        T::Firewall => "Firewall",
        T::AccessPoint => "Thiết bị phát Wi-Fi",
        T::Storage => "Thiết bị lưu trữ",
        T::Other => "Khác",
    }
}

/// The inventory as Phụ lục I's table: exactly its six columns, numbered rows; the gateway's
/// own facts (brand, address, zone, status) go into nothing but the regular export.
pub fn export_annex(devices: &[Device]) -> Result<String, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(ANNEX_COLUMNS).map_err(|e| e.to_string())?;
    for (i, d) in devices.iter().enumerate() {
        w.write_record(
            [
                (i + 1).to_string(),
                d.user.clone(),
                annex_type(d.device_type).to_string(),
                d.serial.clone(),
                d.mac.clone(),
                d.note.clone(),
            ]
            .map(neutralise),
        )
        .map_err(|e| e.to_string())?;
    }
    let bytes = w.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

/// The inventory as an Excel workbook: the first sheet is Phụ lục I's table (exactly its six
/// columns, numbered rows), the second the gateway's own facts per device (brand, address,
/// zone, status, quarantine, approval record, first and last seen) — extra fields, never
/// appendix columns. Cells are written as text: a value that looks like a formula stays text.
pub fn export_annex_xlsx(
    devices: &[Device],
    seen: &edgeward_nac::seen::SeenTable,
) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let annex = book.add_worksheet();
    annex.set_name("Phụ lục I").map_err(e)?;
    for (c, h) in (0u16..).zip(ANNEX_COLUMNS) {
        annex.write_string_with_format(0, c, h, &bold).map_err(e)?;
    }
    for (r, d) in (1u32..).zip(devices) {
        let cells = [
            r.to_string(),
            d.user.clone(),
            annex_type(d.device_type).to_string(),
            d.serial.clone(),
            d.mac.clone(),
            d.note.clone(),
        ];
        annex.write_number(r, 0, f64::from(r)).map_err(e)?;
        for (c, v) in (1u16..).zip(cells.iter().skip(1)) {
            annex.write_string(r, c, v).map_err(e)?;
        }
    }
    annex.set_column_width(1, 28).map_err(e)?;
    annex.set_column_width(2, 22).map_err(e)?;
    annex.set_column_width(3, 20).map_err(e)?;
    annex.set_column_width(4, 20).map_err(e)?;
    annex.set_column_width(5, 30).map_err(e)?;
    let facts = book.add_worksheet();
    facts.set_name("Thông tin bổ sung").map_err(e)?;
    let head = [
        "STT",
        "Địa chỉ MAC",
        "Hãng sản xuất",
        "Địa chỉ IP",
        "Vùng mạng",
        "Trạng thái",
        "Cách ly",
        "Người phê duyệt",
        "Thủ trưởng đồng ý (thiết bị cá nhân)",
        "Lần đầu thấy",
        "Lần cuối thấy",
    ];
    for (c, h) in (0u16..).zip(head) {
        facts.write_string_with_format(0, c, h, &bold).map_err(e)?;
    }
    let when = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default()
    };
    for (r, d) in (1u32..).zip(devices) {
        let s = seen.get(&d.mac);
        let status = match d.status {
            edgeward_config::DeviceStatus::Approved => "Đã phê duyệt",
            edgeward_config::DeviceStatus::Pending => "Chờ phê duyệt",
            edgeward_config::DeviceStatus::Blocked => "Bị chặn",
        };
        let cells = [
            d.mac.clone(),
            d.brand.clone(),
            d.ip.map(|i| i.to_string()).unwrap_or_default(),
            d.zone.clone(),
            status.to_string(),
            if d.move_to.is_some() {
                d.quarantine_reason.clone()
            } else {
                String::new()
            },
            d.approved_by.clone(),
            d.head_of_unit.clone(),
            s.map(|s| when(s.first_seen)).unwrap_or_default(),
            s.map(|s| when(s.last_seen)).unwrap_or_default(),
        ];
        facts.write_number(r, 0, f64::from(r)).map_err(e)?;
        for (c, v) in (1u16..).zip(cells.iter()) {
            facts.write_string(r, c, v).map_err(e)?;
        }
    }
    book.save_to_buffer().map_err(e)
}

/// Parse an inventory CSV (columns in any order, by header). Per-device fields the CSV has no
/// column for (Internet override, move-to) are kept from `existing` devices with the same MAC.
pub fn import(csv_text: &str, existing: &[Device]) -> Result<Vec<Device>, Vec<CsvProblem>> {
    let text = csv_text.trim_start_matches('\u{feff}');
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match r.headers() {
        Ok(h) => h.iter().map(str::to_lowercase).collect(),
        Err(e) => {
            return Err(vec![CsvProblem::new(
                1,
                say!("{e}", "không đọc được dòng tiêu đề của tệp CSV: {e}"),
            )]);
        }
    };
    let mut problems = Vec::new();
    for c in ["user", "type", "mac", "zone"] {
        if !header.iter().any(|x| x == c) {
            let all = COLUMNS.join(",");
            problems.push(CsvProblem::new(
                1,
                say!(
                    "column '{c}' is missing (columns: {all})",
                    "thiếu cột `{c}` (các cột: `{all}`)"
                ),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i as u64 + 2;
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                problems.push(CsvProblem::new(
                    e.position().map_or(line, csv::Position::line),
                    say!("{e}", "dòng không đọc được: {e}"),
                ));
                continue;
            }
        };
        let line = rec.position().map_or(line, csv::Position::line);
        let get = |name: &str| -> String {
            unneutralise(
                header
                    .iter()
                    .position(|h| h == name)
                    .and_then(|i| rec.get(i))
                    .unwrap_or("")
                    .to_string(),
            )
        };
        let mut bad = |column: &str, why: edgeward_config::Text| {
            problems.push(CsvProblem::new(
                line,
                edgeward_config::Text::new(
                    format!("column {column}: {}", why.en),
                    format!("cột `{column}`: {}", why.vi),
                ),
            ));
        };
        let type_text = get("type");
        let Some(device_type) = enum_value::<DeviceType>(&type_text) else {
            bad("type", {
                let all = crate::pages::devices::TYPES.join(", ");
                let all_code = crate::pages::devices::TYPES.join("`, `");
                edgeward_config::Text::new(
                    format!("'{type_text}' is not a device type ({all})"),
                    format!("`{type_text}` không phải chủng loại thiết bị (`{all_code}`)"),
                )
            });
            continue;
        };
        let status_text = get("status");
        let status = if status_text.is_empty() {
            DeviceStatus::Approved
        } else if let Some(s) = enum_value::<DeviceStatus>(&status_text) {
            s
        } else {
            bad(
                "status",
                say!(
                    "'{status_text}' is not approved, pending or blocked",
                    "`{status_text}` không phải `approved` (đã phê duyệt), `pending` (chờ phê duyệt) hay `blocked` (bị chặn)"
                ),
            );
            continue;
        };
        let ip_text = get("ip");
        let ip = if ip_text.is_empty() {
            None
        } else if let Ok(ip) = ip_text.parse() {
            Some(ip)
        } else {
            bad(
                "ip",
                say!(
                    "'{ip_text}' is not an IP address",
                    "`{ip_text}` không phải địa chỉ IP"
                ),
            );
            continue;
        };
        let mac = get("mac");
        let old = existing.iter().find(|d| d.mac.eq_ignore_ascii_case(&mac));
        out.push(Device {
            user: get("user"),
            device_type,
            brand: get("brand"),
            serial: get("serial"),
            mac,
            ip,
            zone: get("zone"),
            status,
            internet: old.and_then(|d| d.internet),
            move_to: old.and_then(|d| d.move_to.clone()),
            quarantine_reason: old.map(|d| d.quarantine_reason.clone()).unwrap_or_default(),
            note: get("note"),
            // The approval record is not in the spreadsheet: kept from the inventory.
            personal: old.is_some_and(|d| d.personal),
            approved_by: old.map(|d| d.approved_by.clone()).unwrap_or_default(),
            head_of_unit: old.map(|d| d.head_of_unit.clone()).unwrap_or_default(),
            checklist: old.map(|d| d.checklist.clone()).unwrap_or_default(),
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 000 Phụ lục I: the workbook's first sheet has exactly the appendix's header, one
    /// numbered row per device, and a formula-like note stays text.
    #[test]
    fn the_workbook_has_the_appendix_sheet_and_the_facts_sheet() {
        let mut devices = cfg().devices;
        devices[0].note = "=HYPERLINK(\"http://x\")".into();
        let bytes = export_annex_xlsx(&devices, &edgeward_nac::seen::SeenTable::default()).unwrap();
        assert_eq!(&bytes[..2], b"PK", "a zip container");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.xlsx");
        std::fs::write(&path, &bytes).unwrap();
        let out = std::process::Command::new("unzip")
            .args([
                "-p",
                path.to_str().unwrap(),
                "xl/sharedStrings.xml",
                "xl/workbook.xml",
                "xl/worksheets/sheet1.xml",
            ])
            .output()
            .expect("unzip (scripts/setup.sh installs it)");
        let xml = String::from_utf8_lossy(&out.stdout);
        for h in ANNEX_COLUMNS {
            assert!(xml.contains(h), "{h} missing");
        }
        assert!(xml.contains("Phụ lục I") && xml.contains("Thông tin bổ sung"));
        assert!(!xml.contains("<f>"), "no formula cells");
        assert!(xml.contains("=HYPERLINK"), "the note kept as text");
    }

    fn cfg() -> edgeward_config::Config {
        edgeward_config::parse(
            edgeward_config::AGENCY_DEFAULT_PROFILE,
            "t",
            edgeward_config::today(),
        )
        .unwrap()
    }

    /// 000 §5.1.c, Phụ lục I: the appendix export has exactly the appendix's columns, in its
    /// order, numbered rows, the appendix's type names; nothing else.
    #[test]
    fn the_annex_export_has_exactly_the_appendix_columns() {
        let devices = cfg().devices;
        let csv = export_annex(&devices).unwrap();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next().unwrap(),
            "STT,Họ tên người sử dụng,Chủng loại thiết bị/ổ cứng,Mã số thiết bị/ổ cứng,Địa chỉ MAC (nếu có),Ghi chú"
        );
        let mut r = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), devices.len());
        for (i, (row, d)) in rows.iter().zip(&devices).enumerate() {
            assert_eq!(row.len(), 6);
            assert_eq!(&row[0], (i + 1).to_string());
            assert_eq!(&row[1], d.user);
            assert_eq!(&row[2], annex_type(d.device_type));
            assert_eq!(&row[4], d.mac);
        }
        assert!(!csv.contains("10.10.0.11"), "no address column");
    }

    /// A user name that a spreadsheet would run as a formula is exported as text, and comes
    /// back unchanged on import.
    #[test]
    fn formulas_are_neutralised_in_the_export() {
        let mut d = cfg().devices[0].clone();
        d.user = "=HYPERLINK(\"http://evil.example\",\"x\")".into();
        d.note = "@SUM(1+1)".into();
        d.brand = "-2+3".into();
        let csv = export(std::slice::from_ref(&d)).unwrap();
        let mut r = csv::Reader::from_reader(csv.as_bytes());
        for rec in r.records() {
            for cell in &rec.unwrap() {
                assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell} in {csv}");
            }
        }
        let back = import(&csv, &[]).unwrap();
        assert_eq!(back[0].user, d.user);
        assert_eq!(back[0].note, d.note);
        assert_eq!(back[0].brand, d.brand);
    }

    #[test]
    fn export_then_import_is_the_same_inventory() {
        let c = cfg();
        assert!(!c.devices.is_empty());
        let csv = export(&c.devices).unwrap();
        assert!(csv.starts_with("user,type,brand,serial,mac,ip,zone,status,note"));
        let back = import(&csv, &c.devices).unwrap();
        assert_eq!(back, c.devices);
        // And the section rewrites to a configuration that still validates.
        let section = crate::changes::list_section_toml("devices", &back).unwrap();
        let (candidate, _) = super::super::changes::splice(
            edgeward_config::AGENCY_DEFAULT_PROFILE,
            &["devices"],
            &section,
        );
        let again = edgeward_config::parse(&candidate, "t", edgeward_config::today()).unwrap();
        assert_eq!(again.devices, c.devices);
    }

    #[test]
    fn bad_rows_name_line_and_column() {
        let csv = "user,type,brand,serial,mac,ip,zone,status,note\n\
                   Lan,pc,Dell,S1,aa:bb:cc:dd:ee:01,10.10.0.50,staff,approved,\n\
                   Minh,toaster,X,S2,aa:bb:cc:dd:ee:02,,staff,approved,\n\
                   Hoa,pc,X,S3,aa:bb:cc:dd:ee:03,not-an-ip,staff,approved,\n";
        let problems = import(csv, &[]).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].line, 3);
        assert!(problems[0].message.contains("type"), "{problems:?}");
        assert_eq!(problems[1].line, 4);
        assert!(problems[1].message.contains("ip"), "{problems:?}");
        let missing = import("user,type\nLan,pc\n", &[]).unwrap_err();
        assert!(missing[0].message.contains("'mac'"));
    }
}
