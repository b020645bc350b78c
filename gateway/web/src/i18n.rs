//! The UI's words in Vietnamese (default) and English. Every text a page shows comes from here,
//! so a missing translation is a test failure, not a blank on screen.

use std::collections::HashMap;
use std::sync::LazyLock;

use edgeward_config::Code;

/// The UI language, from the `lang` cookie; Vietnamese unless English was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }
    /// The same language for the model's bilingual texts.
    pub fn cfg(self) -> edgeward_config::Lang {
        match self {
            Lang::Vi => edgeward_config::Lang::Vi,
            Lang::En => edgeward_config::Lang::En,
        }
    }
    /// The text of a key made at run time, if there is one.
    pub fn lookup(self, key: &str) -> Option<&'static str> {
        TABLE.get(key).map(|(vi, en)| match self {
            Lang::Vi => *vi,
            Lang::En => *en,
        })
    }
    /// The display name of a model value: `lang.value("zone_kind", &z.kind)` reads the key
    /// `zone_kind.lan`. A value without one is shown as written in the configuration (a unit
    /// test keeps every enum's values covered).
    pub fn value<T: serde::Serialize>(self, group: &str, value: &T) -> String {
        let word = edgeward_config::validate::word(value);
        self.lookup(&format!("{group}.{word}"))
            .map_or(word, str::to_string)
    }
    /// A service as an admin knows it: built-ins by their protocol's usual name (`HTTPS`),
    /// `any` in words, the agency's own services as it named them.
    pub fn service(self, name: &str) -> String {
        match self.lookup(&format!("service.{name}")) {
            Some(t) => t.to_string(),
            None if edgeward_config::services::builtin_names().any(|b| b == name) => {
                name.to_ascii_uppercase()
            }
            None => name.to_string(),
        }
    }
    /// The text of `key`; the key itself if it has none (a test keeps this from happening).
    pub fn t(self, key: &'static str) -> &'static str {
        match TABLE.get(key) {
            Some((vi, en)) => match self {
                Lang::Vi => vi,
                Lang::En => en,
            },
            None => key,
        }
    }
}

/// A sentence from the model or a producer, for a page: regulation references written out in
/// words, and values quoted between backticks (what the admin wrote in the configuration)
/// shown as code.
pub fn prose(lang: Lang, text: &str) -> maud::Markup {
    let text = edgeward_config::text::cite_all(text, lang.cfg());
    maud::html! {
        @for (i, part) in text.split('`').enumerate() {
            @if i % 2 == 1 { code { (part) } } @else { (part) }
        }
    }
}

/// A bilingual text for a page, as [`prose`].
pub fn show(lang: Lang, text: &edgeward_config::Text) -> maud::Markup {
    prose(lang, text.get(lang.cfg()))
}

/// A sentence as plain text (for a title or a flash message): references in words, backticks
/// kept out.
pub fn plain(lang: Lang, text: &str) -> String {
    edgeward_config::text::cite_all(text, lang.cfg()).replace('`', "")
}

/// The static key equal to `s`, if `s` names a text (for keys carried in a URL).
pub fn known_key(s: &str) -> Option<&'static str> {
    TABLE.get_key_value(s).map(|(k, _)| *k)
}

/// The words by key, with every regulation reference (`004 §7.2`) written out by name from
/// the one table of regulations (`edgeward_config::text::REGULATIONS`).
static TABLE: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> = LazyLock::new(|| {
    let cited = |text: &'static str, lang| -> &'static str {
        let words = edgeward_config::text::cite_all(text, lang);
        if words == text {
            text
        } else {
            Box::leak(words.into_boxed_str())
        }
    };
    WORDS
        .iter()
        .map(|(k, vi, en)| {
            (
                *k,
                (
                    cited(vi, edgeward_config::Lang::Vi),
                    cited(en, edgeward_config::Lang::En),
                ),
            )
        })
        .collect()
});

/// (key, Vietnamese, English)
pub const WORDS: &[(&str, &str, &str)] = &[
    (
        "app.title",
        "Cổng an toàn thông tin edgeward",
        "edgeward security gateway",
    ),
    ("nav.dashboard", "Tổng quan", "Dashboard"),
    ("nav.zones", "Vùng mạng & chính sách", "Zones & policies"),
    ("nav.uplinks", "Đường truyền", "Uplinks"),
    (
        "nav.ids",
        "Phát hiện xâm nhập (IDS)",
        "Intrusion detection (IDS)",
    ),
    ("nav.devices", "Thiết bị", "Devices"),
    (
        "nav.config",
        "Cấu hình & lịch sử",
        "Configuration & history",
    ),
    ("nav.accounts", "Tài khoản", "Accounts"),
    ("nav.audit", "Nhật ký quản trị", "Audit log"),
    ("nav.system", "Hệ thống", "System"),
    ("nav.logout", "Đăng xuất", "Log out"),
    ("nav.password", "Đổi mật khẩu", "Change password"),
    ("nav.language", "English", "Tiếng Việt"),
    ("role.viewer", "Người xem", "Viewer"),
    ("role.operator", "Vận hành viên", "Operator"),
    (
        "role.security_admin",
        "Quản trị an toàn thông tin",
        "Security administrator",
    ),
    (
        "role.system_admin",
        "Quản trị hệ thống",
        "System administrator",
    ),
    ("login.title", "Đăng nhập", "Log in"),
    ("login.username", "Tên đăng nhập", "User name"),
    ("login.password", "Mật khẩu", "Password"),
    ("login.submit", "Đăng nhập", "Log in"),
    (
        "login.refused",
        "Không đăng nhập được: sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đang bị khóa, tạm ngưng hay vô hiệu hóa. Nếu chắc chắn mật khẩu đúng, hãy liên hệ một quản trị viên khác.",
        "Login refused: wrong user name or password, or the account is locked, suspended or disabled. If you are sure of the password, ask another administrator.",
    ),
    (
        "login.remaining",
        "Số lần sai còn lại trước khi khóa tài khoản:",
        "Wrong attempts left before the account is locked:",
    ),
    (
        "login.locked",
        "Tài khoản đã bị khóa do đăng nhập sai nhiều lần. Liên hệ một quản trị viên khác để mở khóa.",
        "The account is locked after too many failed logins. Ask another administrator to unlock it.",
    ),
    (
        "login.suspended",
        "Tài khoản đã bị tạm ngưng vì không sử dụng quá 30 ngày. Liên hệ quản trị hệ thống.",
        "The account is suspended after more than 30 days unused. Ask a system administrator.",
    ),
    (
        "login.disabled",
        "Tài khoản đã bị vô hiệu hóa.",
        "The account is disabled.",
    ),
    (
        "login.rate",
        "Quá nhiều lần đăng nhập từ địa chỉ này. Vui lòng thử lại sau một phút.",
        "Too many login attempts from this address. Try again in a minute.",
    ),
    (
        "login.expired",
        "Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.",
        "Your session has expired. Please log in again.",
    ),
    (
        "login.factory_hint",
        "Lần đầu sử dụng: đăng nhập bằng tài khoản xuất xưởng ghi trên nhãn thiết bị.",
        "First use: log in with the factory account printed on the appliance's label.",
    ),
    (
        "login.csrf",
        "Biểu mẫu đã hết hạn, vui lòng thử lại.",
        "The form expired; please try again.",
    ),
    ("pw.title", "Đặt mật khẩu mới", "Set a new password"),
    (
        "pw.forced",
        "Bạn phải đặt mật khẩu mới trước khi tiếp tục.",
        "You must set a new password before going on.",
    ),
    (
        "pw.factory",
        "Đây là tài khoản xuất xưởng: hãy nhập họ tên người chịu trách nhiệm và đặt mật khẩu riêng. Mật khẩu mặc định sẽ không còn dùng được.",
        "This is the factory account: enter the name of the person responsible and set your own password. The default password stops working.",
    ),
    ("pw.current", "Mật khẩu hiện tại", "Current password"),
    ("pw.new", "Mật khẩu mới", "New password"),
    ("pw.confirm", "Nhập lại mật khẩu mới", "New password again"),
    (
        "pw.rules_admin",
        "Ít nhất 11 ký tự, gồm chữ thường, chữ hoa, chữ số và ký tự đặc biệt.",
        "At least 11 characters, with lower-case, upper-case, digit and special character.",
    ),
    (
        "pw.rules_user",
        "Ít nhất 8 ký tự, gồm chữ thường, chữ hoa, chữ số và ký tự đặc biệt.",
        "At least 8 characters, with lower-case, upper-case, digit and special character.",
    ),
    ("pw.submit", "Lưu mật khẩu", "Save password"),
    ("pw.saved", "Đã đổi mật khẩu.", "Password changed."),
    (
        "pw.wrong_current",
        "Mật khẩu hiện tại không đúng.",
        "The current password is wrong.",
    ),
    (
        "pw.too_short",
        "Mật khẩu quá ngắn.",
        "The password is too short.",
    ),
    (
        "pw.no_lower",
        "Thiếu chữ thường (a–z).",
        "A lower-case letter is missing.",
    ),
    (
        "pw.no_upper",
        "Thiếu chữ hoa (A–Z).",
        "An upper-case letter is missing.",
    ),
    ("pw.no_digit", "Thiếu chữ số (0–9).", "A digit is missing."),
    (
        "pw.no_special",
        "Thiếu ký tự đặc biệt (ví dụ ! @ # -).",
        "A special character is missing (e.g. ! @ # -).",
    ),
    (
        "pw.contains_username",
        "Mật khẩu không được chứa tên đăng nhập.",
        "The password must not contain the user name.",
    ),
    (
        "pw.same_as_current",
        "Mật khẩu mới phải khác mật khẩu cũ.",
        "The new password must differ from the old one.",
    ),
    (
        "pw.mismatch",
        "Hai lần nhập mật khẩu không khớp.",
        "The two passwords differ.",
    ),
    (
        "pw.full_name",
        "Họ tên người quản trị",
        "Administrator's full name",
    ),
    ("acc.request", "Đề nghị cấp tài khoản", "Account request"),
    (
        "acc.request_hint",
        "Bắt buộc với tài khoản quản trị: ai đề nghị, để làm gì, phạm vi nào; người duyệt là quản trị viên tạo tài khoản (000 §9.1.g). Tài khoản của nhà cung cấp nên có ngày hết hạn (000 §14.6.c).",
        "Required for administrator accounts: who asks, for what and with what scope; the approver is the administrator who creates it (000 §9.1.g). A vendor's account should have an end date (000 §14.6.c).",
    ),
    ("acc.approved_by", "duyệt bởi", "approved by"),
    ("acc.ends", "Hết hạn:", "Ends:"),
    ("acc.citizen_id", "Số CCCD/CMND", "Citizen ID number"),
    ("acc.phone", "Số điện thoại", "Phone"),
    ("acc.department", "Đơn vị công tác", "Department"),
    ("acc.purpose", "Mục đích sử dụng", "Purpose"),
    ("acc.scope", "Phạm vi truy cập", "Scope of access"),
    (
        "acc.expires_on",
        "Hết hạn sau ngày (để trống nếu không giới hạn)",
        "Works until (empty: no end)",
    ),
    (
        "pw.person_id",
        "Thư điện tử công vụ hoặc mã số cán bộ",
        "Official e-mail or staff number",
    ),
    (
        "pw.person_taken",
        "Người này đã có tài khoản quản trị: mỗi người chỉ một tài khoản.",
        "This person already has an account: one account per person.",
    ),
    ("pw.min_chars", "Số ký tự tối thiểu:", "Minimum characters:"),
    (
        "totp.reenrol",
        "Tài khoản đã có xác thực hai yếu tố. Để thay bằng mã mới, nhập mật khẩu hiện tại và mã 6 số từ ứng dụng đang dùng.",
        "This account already has two-factor authentication. To replace it, enter your current password and a 6-digit code from the app you use now.",
    ),
    (
        "totp.current_code",
        "Mã 6 số hiện tại",
        "Current 6-digit code",
    ),
    (
        "totp.title",
        "Xác thực hai yếu tố",
        "Two-factor authentication",
    ),
    (
        "totp.enrol_intro",
        "Quản trị viên bắt buộc dùng xác thực hai yếu tố. Quét mã QR bằng ứng dụng xác thực (Google Authenticator, Microsoft Authenticator, FreeOTP…), rồi nhập mã 6 số hiện trên ứng dụng.",
        "Administrators must use two-factor authentication. Scan the QR code with an authenticator app (Google Authenticator, Microsoft Authenticator, FreeOTP…), then enter the 6-digit code it shows.",
    ),
    (
        "totp.manual",
        "Không quét được? Nhập khóa này vào ứng dụng:",
        "Cannot scan? Type this key into the app:",
    ),
    ("totp.code", "Mã xác thực 6 số", "6-digit code"),
    ("totp.verify", "Xác nhận", "Verify"),
    (
        "totp.wrong",
        "Mã không đúng hoặc đã dùng. Kiểm tra giờ trên điện thoại và thử mã mới.",
        "Wrong or already used code. Check the phone's clock and try a new code.",
    ),
    (
        "totp.ask",
        "Nhập mã 6 số từ ứng dụng xác thực.",
        "Enter the 6-digit code from your authenticator app.",
    ),
    ("dash.title", "Tổng quan", "Dashboard"),
    ("dash.uplinks", "Trạng thái đường truyền", "Uplink states"),
    ("dash.alerts", "Cảnh báo gần đây", "Recent alerts"),
    (
        "dash.pending_devices",
        "Thiết bị chờ phê duyệt",
        "Devices waiting for approval",
    ),
    (
        "dash.config_version",
        "Phiên bản cấu hình",
        "Configuration version",
    ),
    ("dash.no_alerts", "Chưa có cảnh báo.", "No alerts yet."),
    ("dash.none", "Không có.", "None."),
    ("sev.1", "Cao", "High"),
    ("sev.2", "Trung bình", "Medium"),
    ("sev.3", "Thấp", "Low"),
    ("uplink.state.up", "Hoạt động", "Up"),
    ("uplink.state.down", "Mất kết nối", "Down"),
    ("uplink.state.unknown", "Chưa rõ", "Unknown"),
    ("uplink.name", "Đường truyền", "Uplink"),
    ("uplink.kind", "Loại", "Kind"),
    ("uplink.state", "Trạng thái", "State"),
    ("uplink.loss", "Mất gói", "Loss"),
    ("uplink.latency", "Độ trễ p95", "Latency p95"),
    ("uplink.weight", "Trọng số chia tải", "Load-sharing weight"),
    ("uplink.gateway", "Cổng kế tiếp", "Next hop"),
    ("uplink.interface", "Giao diện mạng", "Interface"),
    ("zones.zones", "Các vùng mạng", "Zones"),
    (
        "zones.policies",
        "Chính sách giữa các vùng",
        "Policies between zones",
    ),
    (
        "zones.default_deny",
        "Mọi lưu lượng không được cho phép dưới đây đều bị chặn (mặc định từ chối).",
        "All traffic not allowed below is blocked (default deny).",
    ),
    ("zones.name", "Tên", "Name"),
    ("zones.kind", "Loại", "Kind"),
    ("zones.prefixes", "Dải địa chỉ", "Prefixes"),
    ("zones.description", "Mô tả", "Description"),
    ("pol.from", "Từ vùng", "From"),
    ("pol.to", "Đến vùng", "To"),
    ("pol.services", "Dịch vụ", "Services"),
    ("pol.action", "Hành động", "Action"),
    ("pol.comment", "Ghi chú", "Comment"),
    ("ids.mode", "Chế độ", "Mode"),
    ("ids.state", "Trạng thái", "State"),
    ("ids.running", "Đang hoạt động", "Running"),
    (
        "ids.not_running",
        "Không hoạt động (xem nhật ký hệ thống)",
        "Not running (see the system log)",
    ),
    (
        "ids.interfaces",
        "Giao diện mạng được giám sát",
        "Watched interfaces",
    ),
    (
        "ids.rules_in_force",
        "Số luật đang áp dụng",
        "Rules in force",
    ),
    ("ids.packets", "Gói tin đã kiểm tra", "Packets inspected"),
    ("ids.alerts_total", "Số cảnh báo", "Alerts raised"),
    ("ids.blocked", "Gói tin đã chặn", "Packets blocked"),
    (
        "ids.fail_policy",
        "Khi bộ kiểm tra lỗi",
        "When inspection fails",
    ),
    (
        "ids.fail_open",
        "cho lưu lượng đi qua (fail-open)",
        "traffic passes (fail-open)",
    ),
    (
        "ids.fail_closed",
        "chặn lưu lượng (fail-closed)",
        "traffic stops (fail-closed)",
    ),
    ("ids.overflows", "Gói tin tràn hàng đợi", "Queue overflows"),
    (
        "ids.kernel_drops",
        "Gói tin hệ điều hành bỏ trước khi kiểm tra",
        "Packets dropped before inspection",
    ),
    (
        "ids.restarts",
        "Số lần khởi động lại bộ kiểm tra",
        "Engine restarts",
    ),
    ("ids.rulesets", "Tập luật phát hiện", "Detection rulesets"),
    ("ids.recent", "Cảnh báo gần đây", "Recent alerts"),
    ("ids.time", "Thời điểm", "Time"),
    ("ids.signature", "Dấu hiệu", "Signature"),
    ("ids.severity", "Mức độ", "Severity"),
    ("ids.source", "Nguồn", "Source"),
    ("ids.destination", "Đích", "Destination"),
    ("ids.ack", "Ghi nhận", "Acknowledge"),
    ("ids.acked", "đã ghi nhận:", "acknowledged by"),
    ("ids.action", "Hành động", "Action"),
    ("ids.bundle", "Tập luật từ SOC", "SOC rule bundle"),
    (
        "ids.bundle.none",
        "Không có (dùng tập luật cục bộ)",
        "None (local rules)",
    ),
    (
        "ids.bundle.canary",
        "đang thử (chỉ cảnh báo)",
        "canary (alert only)",
    ),
    (
        "ids.bundle.enforcing",
        "đang thực thi (luật drop chặn)",
        "enforcing (drop rules block)",
    ),
    ("ids.bundle.alert_only", "chỉ cảnh báo", "alert only"),
    ("ids.bundle.until", "đến", "until"),
    (
        "ids.bundle.reverted",
        "Tập luật bị thiết bị tự thu hồi",
        "Bundle reverted by the gateway",
    ),
    ("ids.drop_rules", "Luật đang chặn", "Rules that block"),
    ("ids.action.blocked", "Đã chặn", "Blocked"),
    (
        "ids.action.allowed",
        "Cho qua (chỉ cảnh báo)",
        "Allowed (alert only)",
    ),
    ("ids.evidence", "Bằng chứng", "Evidence"),
    ("ids.evidence_none", "không ghi", "not recorded"),
    ("ids.filter", "Lọc", "Filter"),
    (
        "ids.filter_text",
        "Tìm (dấu hiệu, sid, địa chỉ)",
        "Search (signature, sid, address)",
    ),
    ("ids.filter_all", "Tất cả", "All"),
    (
        "ids.filter_unacked",
        "Chỉ cảnh báo chưa ghi nhận",
        "Only unacknowledged",
    ),
    ("ids.rule", "Luật", "Rule"),
    ("ids.rule_set", "Đặt", "Set"),
    ("ids.rule.drop", "Chặn (chế độ IPS)", "Drop (IPS mode)"),
    ("ids.rule.alert", "Chỉ cảnh báo", "Alert only"),
    ("ids.rule.disable", "Tắt luật", "Disable the rule"),
    ("ids.rule.clear", "Bỏ thiết lập riêng", "Clear the override"),
    (
        "ids.overrides",
        "Thiết lập riêng cho luật",
        "Rule overrides",
    ),
    (
        "ids.overrides_none",
        "Chưa có thiết lập riêng nào.",
        "No overrides.",
    ),
    (
        "ids.bypassed",
        "Gói tin của luồng đã kiểm tra xong (bỏ qua hàng đợi)",
        "Packets of flows handed back (bypass)",
    ),
    (
        "ids.resets",
        "Kết nối TCP bị ngắt (luật reject)",
        "TCP connections reset (reject rules)",
    ),
    (
        "ids.latency",
        "Độ trễ quyết định (trung vị / p99)",
        "Verdict latency (median / p99)",
    ),
    (
        "ids.evidence_kept",
        "Tệp bằng chứng đã ghi / bỏ qua",
        "Evidence pcaps recorded / skipped",
    ),
    (
        "common.saved_confirm",
        "Đã lưu thay đổi. Hãy xác nhận để giữ, nếu không cấu hình sẽ tự quay lui.",
        "Saved. Confirm the change to keep it, or it rolls back by itself.",
    ),
    (
        "dev.title",
        "Danh mục thiết bị (Phụ lục I)",
        "Device inventory (Annex I)",
    ),
    ("dev.user", "Họ tên người sử dụng", "User's full name"),
    ("dev.type", "Chủng loại", "Type"),
    ("dev.brand", "Hãng sản xuất", "Brand"),
    ("dev.serial", "Mã số thiết bị", "Serial number"),
    ("dev.mac", "Địa chỉ MAC", "MAC address"),
    ("dev.ip", "Địa chỉ IP", "IP address"),
    ("dev.zone", "Vùng mạng", "Zone"),
    ("dev.status", "Trạng thái", "Status"),
    ("dev.note", "Ghi chú", "Note"),
    ("dev.add", "Thêm thiết bị", "Add a device"),
    ("dev.remove", "Xóa", "Remove"),
    ("dev.approve", "Phê duyệt", "Approve"),
    ("dev.block", "Chặn", "Block"),
    ("dev.export", "Xuất CSV", "Export CSV"),
    (
        "dev.export_annex",
        "Xuất theo mẫu Phụ lục I",
        "Export as Annex I",
    ),
    ("dev.import", "Nhập từ CSV", "Import CSV"),
    (
        "dev.export_xlsx",
        "Xuất Phụ lục I (Excel)",
        "Export Annex I (Excel)",
    ),
    (
        "dev.waiting",
        "Thiết bị chờ phê duyệt",
        "Devices waiting for approval",
    ),
    (
        "dev.waiting_hint",
        "Máy chưa có trong danh mục chỉ được cấp địa chỉ và chỉ truy cập được trang chờ phê duyệt của thiết bị này.",
        "Machines not in the inventory get an address but reach only this gateway's waiting page.",
    ),
    ("dev.vendor", "Hãng (theo MAC)", "Maker (from MAC)"),
    ("dev.hostname", "Tên máy", "Host name"),
    ("dev.fingerprint", "Dấu hiệu DHCP", "DHCP fingerprint"),
    ("dev.where", "Cổng / vùng mạng", "Interface / zone"),
    ("dev.first_seen", "Lần đầu thấy", "First seen"),
    ("dev.last_seen", "Lần cuối thấy", "Last seen"),
    ("dev.random_mac", "MAC ngẫu nhiên", "Randomised MAC"),
    ("dev.quarantine", "Cách ly", "Quarantine"),
    ("dev.release", "Thôi cách ly", "Release"),
    ("dev.quarantined", "Đang cách ly", "Quarantined"),
    ("dev.reason", "Lý do", "Reason"),
    ("dev.history", "Lịch sử thay đổi", "Change history"),
    (
        "dev.learned",
        "Thông tin thiết bị tự nhận biết",
        "What the gateway learned",
    ),
    (
        "dev.personal",
        "Thiết bị cá nhân (cần thủ trưởng đơn vị đồng ý)",
        "Personal device (needs the head of unit's consent)",
    ),
    (
        "dev.head_of_unit",
        "Thủ trưởng đơn vị đồng ý",
        "Head of unit who consented",
    ),
    ("dev.approved_by", "Người phê duyệt", "Approved by"),
    (
        "dev.checklist",
        "Đã kiểm tra trước khi kết nối (máy xách tay, điện thoại, máy tính bảng)",
        "Checked before joining (laptops, phones, tablets)",
    ),
    (
        "dev.chk.antivirus",
        "Có phần mềm phòng chống mã độc, đã cập nhật",
        "Anti-malware installed and up to date",
    ),
    (
        "dev.chk.os_updates",
        "Hệ điều hành đã cập nhật bản vá",
        "Operating system patched",
    ),
    (
        "dev.chk.licensed_software",
        "Không có phần mềm không rõ nguồn gốc",
        "No software of unknown origin",
    ),
    (
        "dev.chk.screen_lock",
        "Có mật khẩu khóa màn hình",
        "Screen lock with a password",
    ),
    (
        "dev.checklist_required",
        "Máy xách tay, điện thoại và máy tính bảng phải được kiểm tra đủ các mục trước khi phê duyệt",
        "Laptops, phones and tablets must pass every check before approval",
    ),
    (
        "dev.enforce_title",
        "Thiết bị này chặn được gì",
        "What this gateway can cut",
    ),
    (
        "dev.enforce_text",
        "Cách ly và chặn có hiệu lực với mọi lưu lượng đi qua thiết bị: Internet, mạng truyền số liệu chuyên dùng, vùng máy chủ và các vùng mạng khác. Hai máy cắm cùng một switch của cơ quan trao đổi trực tiếp với nhau, không đi qua thiết bị này, nên không chặn được giữa chúng. Máy cắm trực tiếp vào cổng LAN của thiết bị thì bị chặn cả với các máy bên cạnh.",
        "Quarantine and blocking hold for all traffic that crosses the gateway: Internet, the government network (TSLCD), the server zone and other zones. Two machines on the same agency switch talk directly, not through the gateway, so nothing is cut between them. A machine plugged into the gateway's own LAN ports is cut off from its neighbours too.",
    ),
    (
        "dev.port_bridged",
        "Cổng LAN của thiết bị",
        "Gateway LAN port",
    ),
    ("dev.port_switch", "Sau switch", "Behind a switch"),
    (
        "dev.import_hint",
        "Cột: `user,type,brand,serial,mac,ip,zone,status,note`. Danh sách nhập sẽ thay thế toàn bộ danh mục hiện tại.",
        "Columns: `user,type,brand,serial,mac,ip,zone,status,note`. The imported list replaces the whole inventory.",
    ),
    ("nav.wifi", "Wi-Fi", "Wi-Fi"),
    (
        "wifi.intro",
        "Mạng Wi-Fi do thiết bị phát. Mật khẩu Wi-Fi phải đổi ít nhất 6 tháng một lần (004 §7.2); mạng khách tách biệt với mạng nội bộ.",
        "Wi-Fi networks served by the appliance. Passphrases must change at least every 6 months (004 §7.2); guest networks are kept apart from the LAN.",
    ),
    (
        "wifi.none",
        "Chưa có mạng Wi-Fi nào. Wi-Fi chỉ bật khi đã đặt mật khẩu (không có mật khẩu mặc định).",
        "No Wi-Fi network yet. Wi-Fi is on only once a passphrase is set (there is no default one).",
    ),
    ("wifi.security", "Bảo mật", "Security"),
    ("wifi.passphrase", "Mật khẩu Wi-Fi", "Passphrase"),
    ("wifi.changed", "Đổi lần cuối", "Last changed"),
    ("wifi.due", "Hạn đổi", "Change by"),
    ("wifi.rotation", "Tình trạng", "State"),
    ("wifi.days", "ngày", "days"),
    ("wifi.show", "Hiện mật khẩu", "Show passphrase"),
    ("wifi.change", "Đổi mật khẩu", "Change passphrase"),
    ("wifi.remove", "Xóa mạng", "Remove network"),
    ("wifi.add", "Thêm mạng Wi-Fi", "Add a Wi-Fi network"),
    (
        "wifi.new_placeholder",
        "để trống: tạo ngẫu nhiên",
        "leave empty to generate",
    ),
    (
        "wifi.rules",
        "Mật khẩu mới: 12–63 ký tự không dấu, không chứa tên mạng, khác mật khẩu cũ. Để trống để thiết bị tạo mật khẩu ngẫu nhiên dễ đọc.",
        "New passphrases: 12–63 characters without accents, not containing the network name, different from the old one. Leave empty to have a readable random one generated.",
    ),
    ("wifi.state.ok", "Còn hạn", "Current"),
    ("wifi.state.soon", "Sắp đến hạn đổi", "Due soon"),
    ("wifi.state.overdue", "Quá hạn đổi", "Overdue"),
    ("wifi.state.unknown", "Không rõ ngày đổi", "Unknown date"),
    (
        "wifi.withheld",
        "Đang tạm dừng phát: quá hạn đổi mật khẩu",
        "Off the air: passphrase overdue",
    ),
    (
        "wifi.block_on",
        "Dừng phát khi quá hạn",
        "Stop when overdue",
    ),
    (
        "wifi.block_off",
        "Vẫn phát khi quá hạn",
        "Keep serving when overdue",
    ),
    (
        "wifi.block_set",
        "Sẽ dừng phát khi quá hạn đổi mật khẩu",
        "Stops when its passphrase is overdue",
    ),
    (
        "wifi.block_help",
        "Khi quá hạn đổi mật khẩu (004 §7.2), thiết bị luôn gửi cảnh báo mỗi ngày; nếu chọn dừng phát, mạng sẽ ẩn và không nhận thiết bị nào cho đến khi đổi mật khẩu.",
        "When the passphrase is overdue (004 §7.2) an event is raised every day; if set to stop, the network is hidden and accepts no device until its passphrase changes.",
    ),
    (
        "wifi.changed_ok",
        "Đã đổi mật khẩu Wi-Fi; mật khẩu mới hiện trong bảng.",
        "Passphrase changed; the new one is shown in the table.",
    ),
    (
        "wifi.added_ok",
        "Đã thêm mạng Wi-Fi; mật khẩu hiện trong bảng.",
        "Network added; its passphrase is shown in the table.",
    ),
    (
        "wifi.err.length",
        "Mật khẩu mới phải có từ 12 đến 63 ký tự.",
        "A new passphrase has 12 to 63 characters.",
    ),
    (
        "wifi.err.ascii",
        "Chỉ dùng chữ không dấu, chữ số, dấu câu và khoảng trắng.",
        "Use letters without accents, digits, punctuation and spaces only.",
    ),
    (
        "wifi.err.ssid",
        "Mật khẩu không được chứa tên mạng.",
        "The passphrase must not contain the network name.",
    ),
    (
        "wifi.err.same",
        "Mật khẩu mới phải khác mật khẩu cũ.",
        "The new passphrase must differ from the old one.",
    ),
    (
        "wifi.err.ssid_empty",
        "Hãy nhập tên mạng (SSID).",
        "Enter the network name (SSID).",
    ),
    (
        "wifi.err.security",
        "Chọn WPA2/WPA3, WPA3 hoặc WPA2.",
        "Choose WPA2/WPA3, WPA3 or WPA2.",
    ),
    (
        "wifi.err.unknown",
        "Không có mạng Wi-Fi",
        "No Wi-Fi network",
    ),
    (
        "dash.wifi_due",
        "Mật khẩu Wi-Fi đến hạn đổi",
        "Wi-Fi passphrases due",
    ),
    ("dev.status.approved", "Đã phê duyệt", "Approved"),
    ("dev.status.pending", "Chờ phê duyệt", "Pending"),
    ("dev.status.blocked", "Bị chặn", "Blocked"),
    ("cfg.title", "Cấu hình", "Configuration"),
    ("cfg.edit", "Sửa", "Edit"),
    ("cfg.section", "Mục cấu hình", "Configuration section"),
    ("cfg.reason", "Lý do thay đổi", "Reason for the change"),
    (
        "cfg.commit_confirm",
        "Tự động quay lui nếu không xác nhận trong thời gian quy định (khuyến nghị)",
        "Roll back automatically unless confirmed in time (recommended)",
    ),
    (
        "cfg.check",
        "Kiểm tra & xem khác biệt",
        "Check & show differences",
    ),
    ("cfg.apply", "Áp dụng", "Apply"),
    (
        "cfg.valid",
        "Cấu hình hợp lệ. Xem lại các thay đổi dưới đây rồi bấm Áp dụng.",
        "The configuration is valid. Review the changes below, then press Apply.",
    ),
    (
        "cfg.invalid",
        "Cấu hình có lỗi, chưa có gì bị thay đổi:",
        "The configuration has errors; nothing was changed:",
    ),
    ("cfg.line", "dòng", "line"),
    (
        "cfg.no_change",
        "Không có thay đổi nào.",
        "Nothing changed.",
    ),
    (
        "cfg.applied",
        "Đã áp dụng cấu hình mới.",
        "The new configuration is applied.",
    ),
    (
        "cfg.refused",
        "Thiết bị từ chối cấu hình, cấu hình đang chạy được giữ nguyên:",
        "The appliance refused the configuration; the running one stays:",
    ),
    (
        "cfg.awaiting",
        "Thay đổi chưa được xác nhận. Tự động quay lui sau",
        "The change is not confirmed yet. Automatic rollback in",
    ),
    ("cfg.seconds", "giây", "seconds"),
    (
        "cfg.confirm",
        "Xác nhận giữ thay đổi",
        "Confirm and keep the change",
    ),
    ("cfg.rollback_now", "Quay lui ngay", "Roll back now"),
    (
        "cfg.confirmed",
        "Đã xác nhận thay đổi.",
        "The change is confirmed.",
    ),
    (
        "cfg.rolled_back",
        "Đã quay lui về cấu hình trước đó.",
        "The previous configuration is back.",
    ),
    ("cfg.history", "Lịch sử thay đổi", "Change history"),
    ("cfg.version", "Phiên bản", "Version"),
    ("cfg.when", "Thời điểm", "When"),
    ("cfg.author", "Người thay đổi", "Author"),
    (
        "cfg.rollback_to",
        "Quay lui về phiên bản này",
        "Roll back to this version",
    ),
    ("cfg.diff", "Khác biệt", "Differences"),
    ("cfg.running", "đang chạy", "running"),
    (
        "cfg.forbidden_sections",
        "Vai trò của bạn không được sửa các mục:",
        "Your role may not change these sections:",
    ),
    (
        "cfg.view_full",
        "Xem toàn bộ cấu hình",
        "View the whole configuration",
    ),
    (
        "cfg.reason_required",
        "Hãy ghi lý do thay đổi (được lưu vào lịch sử).",
        "Give a reason for the change (kept in the history).",
    ),
    (
        "cfg.elsewhere",
        "Lỗi ở mục khác của cấu hình",
        "Problem elsewhere in the configuration",
    ),
    ("acc.title", "Tài khoản quản trị", "Administrator accounts"),
    ("acc.username", "Tên đăng nhập", "User name"),
    ("acc.full_name", "Họ tên", "Full name"),
    (
        "acc.person_id",
        "Email hoặc mã cán bộ",
        "E-mail or staff number",
    ),
    ("acc.role", "Vai trò", "Role"),
    ("acc.status", "Trạng thái", "Status"),
    (
        "acc.totp",
        "Xác thực hai yếu tố",
        "Two-factor authentication",
    ),
    ("acc.expires", "Mật khẩu hết hạn", "Password expires"),
    ("acc.last_active", "Hoạt động gần nhất", "Last active"),
    ("acc.create", "Tạo tài khoản", "Create an account"),
    (
        "acc.temp_password",
        "Mật khẩu tạm (người dùng phải đổi khi đăng nhập lần đầu)",
        "Temporary password (changed by the user at first login)",
    ),
    ("acc.temp_short", "Mật khẩu tạm", "Temporary password"),
    ("acc.unlock", "Mở khóa", "Unlock"),
    (
        "acc.reset",
        "Đặt lại mật khẩu và xác thực hai yếu tố",
        "Reset password and two-factor authentication",
    ),
    ("acc.disable", "Vô hiệu hóa", "Disable"),
    ("acc.enable", "Kích hoạt lại", "Enable"),
    ("acc.set_role", "Đổi vai trò", "Change role"),
    ("acc.status.active", "Hoạt động", "Active"),
    ("acc.status.locked", "Bị khóa", "Locked"),
    ("acc.status.suspended", "Tạm ngưng", "Suspended"),
    ("acc.status.disabled", "Đã vô hiệu hóa", "Disabled"),
    (
        "acc.status.password_expired",
        "Mật khẩu hết hạn",
        "Password expired",
    ),
    ("acc.done", "Đã cập nhật tài khoản.", "Account updated."),
    (
        "acc.one_person",
        "Mỗi người một tài khoản; không dùng chung tài khoản.",
        "One account per person; accounts are never shared.",
    ),
    ("audit.title", "Nhật ký quản trị", "Audit log"),
    ("audit.time", "Thời điểm", "Time"),
    ("audit.actor", "Người thực hiện", "Actor"),
    ("audit.source", "Từ địa chỉ", "Source"),
    ("audit.action", "Hành động", "Action"),
    ("audit.outcome", "Kết quả", "Outcome"),
    ("audit.detail", "Chi tiết", "Detail"),
    ("audit.days", "Số ngày gần nhất", "Last days"),
    ("audit.show", "Xem", "Show"),
    ("sys.title", "Hệ thống", "System"),
    ("sys.cert", "Chứng thư số HTTPS", "HTTPS certificate"),
    (
        "sys.cert_upload",
        "Thay chứng thư (PEM)",
        "Replace the certificate (PEM)",
    ),
    (
        "sys.cert_file",
        "Chứng thư (kèm chuỗi CA)",
        "Certificate (with CA chain)",
    ),
    ("sys.key_file", "Khóa bí mật", "Private key"),
    (
        "sys.cert_replaced",
        "Đã thay chứng thư; kết nối mới dùng chứng thư mới.",
        "Certificate replaced; new connections use it.",
    ),
    (
        "sys.self_signed",
        "Tự ký (tạo khi khởi động lần đầu)",
        "Self-signed (made at first start)",
    ),
    ("sys.time", "Đồng bộ thời gian", "Time synchronisation"),
    (
        "sys.time_now",
        "Giờ của thiết bị (UTC)",
        "Appliance time (UTC)",
    ),
    ("sys.ntp", "Đồng bộ thời gian", "Time synchronisation"),
    (
        "ntp.no_server",
        "Chưa cấu hình máy chủ thời gian (mục `[time]`): đồng hồ không được đồng bộ",
        "No time server configured (`[time]`): the clock is not synchronised",
    ),
    (
        "ntp.not_running",
        "Dịch vụ đồng bộ thời gian không chạy",
        "The time synchronisation service is not running",
    ),
    ("ntp.synced_to", "Đã đồng bộ với", "Synchronised to"),
    ("cert.subject", "Chủ thể", "Subject"),
    ("cert.issuer", "Đơn vị cấp", "Issuer"),
    ("cert.valid", "Hiệu lực", "Valid"),
    ("cert.names", "Tên miền và địa chỉ", "Names"),
    ("ntp.offset", "lệch", "offset"),
    ("ntp.stratum", "tầng", "stratum"),
    ("ntp.over_limit", "vượt ngưỡng", "over the limit of"),
    (
        "ntp.not_synced",
        "Chưa đồng bộ được với máy chủ thời gian",
        "Not yet synchronised with the time servers",
    ),
    (
        "sys.update",
        "Cập nhật phần mềm hệ thống",
        "System software update",
    ),
    (
        "sys.update_intro",
        "Chỉ cài gói cập nhật có chữ ký của nhà sản xuất. Phiên bản mới được ghi vào phân vùng dự phòng rồi khởi động lại; nếu không chạy được sau 3 lần khởi động, thiết bị tự quay về phiên bản đang chạy.",
        "Only update bundles signed by the vendor are installed. The new version is written to the standby slot, then the appliance restarts; if it does not work within 3 boots, the appliance returns to the version running now.",
    ),
    (
        "sys.update_running",
        "Phiên bản đang chạy",
        "Running version",
    ),
    ("sys.update_slot", "Phân vùng hệ thống", "System slot"),
    (
        "sys.update_entries",
        "Các phiên bản trên thiết bị",
        "Versions on the appliance",
    ),
    ("sys.update_state", "Trạng thái", "State"),
    ("sys.update_next", "Khởi động lần tới", "Boots next"),
    ("sys.update_good", "Đã chạy tốt", "Booted well"),
    ("sys.update_trying", "Đang thử", "Being tried"),
    ("sys.update_bad", "Không khởi động được", "Failed to boot"),
    (
        "sys.update_file",
        "Gói cập nhật (.ewu)",
        "Update bundle (.ewu)",
    ),
    (
        "sys.update_upload",
        "Tải lên và cài đặt",
        "Upload and install",
    ),
    (
        "sys.update_queued",
        "Gói cập nhật hợp lệ đã được nhận; thiết bị đang cài đặt và sẽ tự khởi động lại.",
        "The update bundle is valid and was received; the appliance is installing it and will restart by itself.",
    ),
    (
        "sys.update_refused",
        "Gói cập nhật bị từ chối",
        "Update bundle refused",
    ),
    ("sys.update_history", "Lịch sử cập nhật", "Update history"),
    ("sys.update_installing", "Đang cài đặt", "Installing"),
    (
        "sys.backup",
        "Sao lưu cấu hình (mã hóa)",
        "Configuration backup (encrypted)",
    ),
    (
        "sys.backup_pass",
        "Mật khẩu bảo vệ bản sao lưu (ít nhất 12 ký tự)",
        "Passphrase protecting the backup (at least 12 characters)",
    ),
    (
        "sys.backup_export",
        "Tải bản sao lưu",
        "Download the backup",
    ),
    (
        "sys.backup_import",
        "Khôi phục từ bản sao lưu",
        "Restore from a backup",
    ),
    ("sys.backup_file", "Tệp sao lưu", "Backup file"),
    (
        "sys.backup_bad",
        "Không mở được bản sao lưu (sai mật khẩu hoặc tệp hỏng).",
        "The backup cannot be opened (wrong passphrase or damaged file).",
    ),
    ("sys.version", "Phiên bản phần mềm", "Software version"),
    ("sys.host", "Mã thiết bị", "Host id"),
    ("sys.sessions", "Phiên đăng nhập đang mở", "Open sessions"),
    (
        "err.forbidden",
        "Vai trò của bạn không được phép thực hiện thao tác này.",
        "Your role is not allowed to do this.",
    ),
    ("err.not_found", "Không tìm thấy trang.", "Page not found."),
    (
        "err.bad_request",
        "Yêu cầu không hợp lệ.",
        "Invalid request.",
    ),
    (
        "err.csrf",
        "Yêu cầu bị từ chối: thiếu hoặc sai mã chống giả mạo (CSRF). Hãy tải lại trang.",
        "Request refused: missing or wrong anti-forgery (CSRF) token. Reload the page.",
    ),
    ("common.save", "Lưu", "Save"),
    ("common.saved", "Đã lưu thay đổi.", "Changes saved."),
    ("ids.off", " (đang tắt)", " (off)"),
    ("wifi.sheet", "In tờ thông báo", "Printable sheet"),
    ("wifi.served", "Phát trên", "Served on"),
    (
        "wifi.not_served",
        "Chưa phát (thiết bị chưa có bộ phát Wi-Fi)",
        "Not served (no Wi-Fi radio)",
    ),
    (
        "wifi.clients",
        "Thiết bị đang kết nối Wi-Fi",
        "Connected Wi-Fi clients",
    ),
    ("wifi.signal", "Tín hiệu", "Signal"),
    ("wifi.since", "Đã kết nối", "Connected for"),
    ("wifi.minutes", "phút", "minutes"),
    ("wifi.bytes", "Dữ liệu (byte)", "Traffic (bytes)"),
    (
        "wifi.no_clients",
        "Chưa có thiết bị nào kết nối.",
        "No client is connected.",
    ),
    ("wifi.sheet_title", "Mạng Wi-Fi", "Wi-Fi network"),
    ("wifi.sheet_ssid", "Tên mạng (SSID)", "Network name (SSID)"),
    (
        "wifi.sheet_scan",
        "Quét mã QR bằng máy ảnh của điện thoại để kết nối, hoặc chọn tên mạng và nhập mật khẩu ở trên.",
        "Scan the QR code with a phone's camera to join, or pick the network name and type the passphrase above.",
    ),
    (
        "wifi.sheet_rules",
        "Mật khẩu Wi-Fi được đổi ít nhất 6 tháng một lần (004 §7.2); khi đổi, tờ này được in lại. Mạng khách không truy cập được mạng nội bộ của cơ quan.",
        "The Wi-Fi passphrase changes at least every 6 months (004 §7.2); this sheet is printed again when it does. The guest network cannot reach the agency's internal network.",
    ),
    ("wifi.sheet_print", "In", "Print"),
    (
        "wifi.modes_note",
        "WPA2/WPA3 (chế độ chuyển tiếp) hợp với hầu hết thiết bị, nhưng một số điện thoại, máy in cũ không kết nối được ở chế độ hỗn hợp: khi đó hãy tạo thêm một mạng chỉ WPA2 cho chúng. WPA3 bắt buộc bảo vệ khung quản lý (PMF); chế độ chuyển tiếp để PMF ở mức tùy chọn, mà một số trình điều khiển cũ khi đó lại cắt kết nối của máy không hỗ trợ PMF. Đổi mật khẩu mạng WPA2 chỉ ngắt các máy còn dùng mật khẩu cũ; đổi mật khẩu mạng có WPA3 làm mọi máy trên cùng bộ phát kết nối lại trong giây lát.",
        "WPA2/WPA3 (transition mode) suits most devices, but some older phones and printers fail to join a mixed network: give them an extra WPA2-only network. WPA3 requires protected management frames (PMF); transition mode makes PMF optional, which on some older drivers cuts off clients without PMF. Changing a WPA2 network's passphrase disconnects only the clients still on the old one; changing one with WPA3 makes every client of the same radio reconnect for a moment.",
    ),
    (
        "sys.cert_refused",
        "Chứng thư số bị từ chối",
        "Certificate refused",
    ),
    ("update_action.install", "Cài đặt", "Installed"),
    ("update_action.refuse", "Từ chối", "Refused"),
    (
        "update_action.rollback",
        "Quay về phiên bản trước",
        "Rollback",
    ),
    (
        "update_action.fallback",
        "Tự quay về phiên bản trước",
        "Fallback",
    ),
    ("update_action.boot", "Khởi động", "Boot"),
    ("update_code.io", "Lỗi đọc ghi", "Input/output error"),
    (
        "update_code.bad-version",
        "Số phiên bản không hợp lệ",
        "Invalid version",
    ),
    (
        "update_code.malformed",
        "Gói cập nhật hỏng hoặc sai cấu trúc",
        "Malformed bundle",
    ),
    (
        "update_code.bad-signature",
        "Chữ ký số không phải của nhà sản xuất",
        "Not signed by the vendor",
    ),
    (
        "update_code.part-mismatch",
        "Nội dung gói bị thay đổi sau khi ký",
        "Altered after signing",
    ),
    (
        "update_code.not-newer",
        "Không mới hơn phiên bản đang chạy",
        "Not newer than the running version",
    ),
    (
        "update_code.slot",
        "Lỗi phân vùng hệ thống",
        "System slot error",
    ),
    (
        "update_code.write",
        "Không ghi được phân vùng",
        "Slot write failed",
    ),
    (
        "update_code.busy",
        "Đang có bản cập nhật chờ cài",
        "Another update is queued",
    ),
    (
        "update_code.request",
        "Yêu cầu tải lên không hợp lệ",
        "Invalid upload",
    ),
    (
        "update_phase.writing the root filesystem",
        "đang ghi hệ thống tệp",
        "writing the root filesystem",
    ),
    (
        "update_phase.reading the slot back",
        "đang đọc lại để kiểm tra",
        "reading the slot back",
    ),
    (
        "update_phase.writing the boot entry",
        "đang ghi mục khởi động",
        "writing the boot entry",
    ),
    (
        "dash.open_alerts",
        "Cảnh báo chưa ghi nhận",
        "Unacknowledged alerts",
    ),
    ("common.yes", "Có", "Yes"),
    ("common.no", "Không", "No"),
    ("common.back", "Quay lại", "Back"),
    ("common.signed_in_as", "Đăng nhập:", "Signed in as"),
    ("common.never", "Chưa bao giờ", "Never"),
    ("common.error", "Lỗi", "Error"),
    // Display names of the model's values (`Lang::value`).
    ("wifi_band.2.4ghz", "2,4 GHz", "2.4 GHz"),
    ("wifi_band.5ghz", "5 GHz", "5 GHz"),
    ("zone_kind.lan", "Mạng LAN cán bộ", "Staff LAN"),
    ("zone_kind.servers", "Máy chủ", "Servers"),
    ("zone_kind.mgmt", "Quản trị", "Management"),
    ("zone_kind.guest", "Khách", "Guests"),
    ("zone_kind.quarantine", "Cách ly", "Quarantine"),
    ("zone_kind.internet", "Internet", "Internet"),
    ("zone_kind.tslcd", "Mạng TSLCD", "TSLCD"),
    ("uplink_kind.internet", "Internet", "Internet"),
    ("uplink_kind.tslcd", "Mạng TSLCD", "TSLCD"),
    ("action.allow", "Cho phép", "Allow"),
    ("action.deny", "Chặn", "Deny"),
    ("device_type.pc", "Máy tính để bàn", "Desktop computer"),
    ("device_type.laptop", "Máy tính xách tay", "Laptop"),
    ("device_type.server", "Máy chủ", "Server"),
    ("device_type.printer", "Máy in", "Printer"),
    ("device_type.scanner", "Máy quét", "Scanner"),
    ("device_type.camera", "Camera", "Camera"),
    ("device_type.ip-phone", "Điện thoại IP", "IP phone"),
    ("device_type.phone", "Điện thoại di động", "Mobile phone"),
    ("device_type.tablet", "Máy tính bảng", "Tablet"),
    ("device_type.switch", "Bộ chuyển mạch", "Switch"),
    ("device_type.router", "Bộ định tuyến", "Router"),
    ("device_type.firewall", "Tường lửa", "Firewall"),
    (
        "device_type.access-point",
        "Điểm truy cập Wi-Fi",
        "Wi-Fi access point",
    ),
    ("device_type.storage", "Thiết bị lưu trữ", "Storage"),
    ("device_type.other", "Khác", "Other"),
    ("outcome.success", "Thành công", "Success"),
    ("outcome.failure", "Thất bại", "Failure"),
    (
        "wifi_security.open",
        "Không mật khẩu (bị cấm)",
        "Open (not allowed)",
    ),
    ("wifi_security.wpa2", "WPA2", "WPA2"),
    ("wifi_security.wpa3", "WPA3", "WPA3"),
    (
        "wifi_security.wpa2-wpa3",
        "WPA2/WPA3 (chế độ chuyển tiếp)",
        "WPA2/WPA3 (transition mode)",
    ),
    ("probe_kind.icmp", "ICMP (ping)", "ICMP (ping)"),
    ("probe_kind.tcp", "TCP", "TCP"),
    ("probe_kind.dns", "DNS", "DNS"),
    ("probe_kind.http", "HTTP", "HTTP"),
    ("probe_kind.https", "HTTPS", "HTTPS"),
    ("service.any", "Mọi dịch vụ", "Any service"),
    ("uplink.probe", "Cách kiểm tra", "Probe"),
    ("uplink.target", "Mục tiêu", "Target"),
    ("uplink.samples", "Số mẫu", "Samples"),
    ("pol.gateway", "Chính thiết bị", "The gateway itself"),
    (
        "zones.firewall_sections",
        "tường lửa, chuyển tiếp cổng, giao diện mạng",
        "firewall, port forwards, interfaces",
    ),
    ("audit_action.auth.login", "Đăng nhập", "Login"),
    ("audit_action.auth.logout", "Đăng xuất", "Logout"),
    (
        "audit_action.auth.password",
        "Kiểm tra mật khẩu",
        "Password check",
    ),
    (
        "audit_action.auth.lockout",
        "Khóa tài khoản",
        "Account lockout",
    ),
    (
        "audit_action.auth.forbidden",
        "Truy cập bị từ chối",
        "Access denied",
    ),
    (
        "audit_action.auth.session_expired",
        "Hết phiên đăng nhập",
        "Session expired",
    ),
    ("audit_action.auth.ssh", "Đăng nhập SSH", "SSH login"),
    (
        "audit_action.account.create",
        "Tạo tài khoản",
        "Account created",
    ),
    (
        "audit_action.account.unlock",
        "Mở khóa tài khoản",
        "Account unlocked",
    ),
    (
        "audit_action.account.reset",
        "Đặt lại mật khẩu",
        "Password reset",
    ),
    ("audit_action.account.role", "Đổi vai trò", "Role changed"),
    (
        "audit_action.account.disable",
        "Vô hiệu hóa tài khoản",
        "Account disabled",
    ),
    (
        "audit_action.account.enable",
        "Kích hoạt lại tài khoản",
        "Account enabled",
    ),
    (
        "audit_action.account.password_change",
        "Đổi mật khẩu",
        "Password change",
    ),
    (
        "audit_action.account.totp_enrol",
        "Đăng ký xác thực hai yếu tố",
        "Two-factor enrolment",
    ),
    (
        "audit_action.account.console_change",
        "Sửa tài khoản ngoài giao diện",
        "Accounts changed outside the UI",
    ),
    (
        "audit_action.config.view",
        "Xem cấu hình",
        "Configuration viewed",
    ),
    (
        "audit_action.config.apply",
        "Áp dụng cấu hình",
        "Configuration applied",
    ),
    (
        "audit_action.config.confirm",
        "Xác nhận thay đổi",
        "Change confirmed",
    ),
    (
        "audit_action.config.rollback",
        "Quay lui cấu hình",
        "Configuration rolled back",
    ),
    (
        "audit_action.alert.ack",
        "Ghi nhận cảnh báo",
        "Alert acknowledged",
    ),
    (
        "audit_action.ids.evidence",
        "Tải bằng chứng",
        "Evidence download",
    ),
    (
        "audit_action.rules.apply",
        "Cập nhật tập luật phát hiện",
        "Ruleset update",
    ),
    (
        "audit_action.device.quarantine",
        "Cách ly thiết bị",
        "Device quarantined",
    ),
    (
        "audit_action.device.release",
        "Thôi cách ly thiết bị",
        "Device released",
    ),
    (
        "audit_action.system.certificate",
        "Thay chứng thư số",
        "Certificate replaced",
    ),
    (
        "audit_action.system.backup_export",
        "Xuất bản sao lưu",
        "Backup exported",
    ),
    (
        "audit_action.system.backup_import",
        "Khôi phục bản sao lưu",
        "Backup restored",
    ),
    (
        "audit_action.system.update.upload",
        "Tải lên bản cập nhật",
        "Update uploaded",
    ),
    (
        "audit_action.system.update.install",
        "Cài đặt bản cập nhật",
        "Update installed",
    ),
    (
        "audit_action.system.update.rollback",
        "Quay về phiên bản trước",
        "Update rolled back",
    ),
    ("service.ping", "Ping", "Ping"),
    ("service.printing", "In ấn", "Printing"),
];

/// A configuration problem in the UI's language: what kind of problem, then the validator's
/// exact words (field names and values stay as written in the file).
pub fn problem_kind(lang: Lang, code: Code) -> &'static str {
    let (vi, en) = match code {
        Code::Syntax => ("Sai cú pháp TOML", "TOML syntax error"),
        Code::Schema => ("Trường không hợp lệ hoặc thiếu", "Invalid or missing field"),
        Code::InvalidName => ("Tên không hợp lệ", "Invalid name"),
        Code::DuplicateName => ("Tên bị trùng", "Duplicate name"),
        Code::UnknownZone => ("Vùng mạng không tồn tại", "Unknown zone"),
        Code::UnknownInterface => ("Giao diện mạng không tồn tại", "Unknown interface"),
        Code::UnknownUplink => ("Đường truyền không tồn tại", "Unknown uplink"),
        Code::UnknownService => ("Dịch vụ không tồn tại", "Unknown service"),
        Code::RoleZoneMismatch => (
            "Vai trò giao diện không khớp loại vùng",
            "Interface role does not fit the zone kind",
        ),
        Code::OverlappingPrefixes => ("Dải địa chỉ chồng lấn", "Overlapping prefixes"),
        Code::AddressOutsideZone => ("Địa chỉ nằm ngoài dải của vùng", "Address outside its zone"),
        Code::UplinkZoneHasPrefixes => (
            "Vùng đường truyền không được có dải địa chỉ nội bộ",
            "An uplink zone cannot have internal prefixes",
        ),
        Code::InternalZoneWithoutPrefixes => (
            "Vùng nội bộ cần dải địa chỉ",
            "An internal zone needs prefixes",
        ),
        Code::GuestToInternal => (
            "Mạng khách không được vào mạng nội bộ",
            "Guests must not reach internal zones",
        ),
        Code::GuestToTslcd => (
            "Mạng khách không được vào mạng TSLCD",
            "Guests must not reach the TSLCD",
        ),
        Code::UplinkToGateway => (
            "Không được mở quản trị thiết bị từ đường truyền",
            "The appliance must not be managed from an uplink",
        ),
        Code::AdminOnUplink => (
            "Vùng quản trị không được là đường truyền",
            "The admin zone cannot be an uplink",
        ),
        Code::ZeroWeight => ("Trọng số phải lớn hơn 0", "Weight must be above 0"),
        Code::TooFewIsps => (
            "Cần ít nhất hai đường Internet",
            "At least two Internet uplinks are required",
        ),
        Code::TslcdWithoutPrefixes => (
            "Đường TSLCD cần dải địa chỉ chính phủ",
            "The TSLCD uplink needs government prefixes",
        ),
        Code::TslcdPrefixOverlapsInternal => (
            "Dải TSLCD chồng lấn mạng nội bộ",
            "TSLCD prefixes overlap internal ones",
        ),
        Code::UplinkWithoutProbes => (
            "Đường truyền cần mục tiêu kiểm tra",
            "The uplink needs probe targets",
        ),
        Code::UplinkNotWanInterface => (
            "Đường truyền phải dùng giao diện WAN",
            "An uplink must use a WAN interface",
        ),
        Code::HealthThresholds => (
            "Ngưỡng kiểm tra tình trạng đường truyền không hợp lệ",
            "Invalid health thresholds",
        ),
        Code::InvalidMac => ("Địa chỉ MAC không hợp lệ", "Invalid MAC address"),
        Code::DuplicateMac => ("Địa chỉ MAC bị trùng", "Duplicate MAC address"),
        Code::DuplicateAddress => ("Địa chỉ IP bị trùng", "Duplicate IP address"),
        Code::WeakAccountPolicy => (
            "Chính sách tài khoản yếu hơn quy định",
            "Account policy weaker than the regulations",
        ),
        Code::WifiInsecure => (
            "Wi-Fi phải dùng WPA2 hoặc WPA3 có mật khẩu",
            "Wi-Fi must use WPA2 or WPA3 with a password",
        ),
        Code::WifiStalePassphrase => (
            "Mật khẩu Wi-Fi quá 6 tháng chưa đổi",
            "Wi-Fi password older than 6 months",
        ),
        Code::PortForwardTarget => (
            "Đích chuyển tiếp cổng không hợp lệ",
            "Invalid port-forward target",
        ),
        Code::UnknownAddressGroup => ("Nhóm địa chỉ không tồn tại", "Unknown address group"),
        Code::FirewallSettings => (
            "Thiết lập tường lửa không hợp lệ",
            "Invalid firewall settings",
        ),
        Code::LogRetention => (
            "Thời gian lưu nhật ký ít hơn 6 tháng",
            "Logs kept less than 6 months",
        ),
        Code::SshSettings => ("Thiết lập SSH không hợp lệ", "Invalid SSH settings"),
        Code::TimeSettings => (
            "Thiết lập đồng bộ thời gian không hợp lệ",
            "Invalid time synchronisation settings",
        ),
        Code::IdsSettings => (
            "Thiết lập phát hiện/ngăn chặn xâm nhập không hợp lệ",
            "Invalid IDS/IPS settings",
        ),
        Code::NacSettings => (
            "Thiết lập kiểm soát truy cập mạng (NAC) không hợp lệ",
            "Invalid network access control settings",
        ),
        Code::DhcpRange => (
            "Dải địa chỉ cấp phát tự động (DHCP) không hợp lệ",
            "Invalid DHCP range",
        ),
        Code::WifiRadio => (
            "Thiết lập bộ phát Wi-Fi không hợp lệ",
            "Invalid Wi-Fi radio settings",
        ),
        Code::WifiToTslcd => (
            "Mạng Wi-Fi không được vào mạng TSLCD",
            "Wi-Fi must not reach the TSLCD",
        ),
        Code::DeviceApproval => (
            "Phê duyệt thiết bị chưa đủ điều kiện",
            "Device approval incomplete",
        ),
    };
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_used_in_the_admin_sources_has_both_languages() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut missing = Vec::new();
        let mut files = vec![];
        let mut dirs = vec![dir];
        while let Some(d) = dirs.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        assert!(files.len() > 10);
        for path in files {
            let src = std::fs::read_to_string(&path).unwrap();
            for (i, _) in src.match_indices(".t(\"") {
                let rest = &src[i + 4..];
                let key = &rest[..rest.find('"').unwrap()];
                if !TABLE.contains_key(key) {
                    missing.push(format!("{}: {key}", path.display()));
                }
            }
        }
        assert!(missing.is_empty(), "untranslated keys: {missing:?}");
        for (k, vi, en) in WORDS {
            assert!(!vi.is_empty() && !en.is_empty(), "{k}");
        }
        assert_eq!(TABLE.len(), WORDS.len(), "duplicate keys in WORDS");
    }

    /// Every value of the model's enums has a display name in both languages.
    #[test]
    fn every_model_value_has_a_display_name() {
        use edgeward_config::*;
        fn all<T: serde::Serialize>(group: &str, values: &[T]) {
            for v in values {
                let key = format!("{group}.{}", validate::word(v));
                assert!(TABLE.contains_key(key.as_str()), "no display name {key}");
            }
        }
        all(
            "zone_kind",
            &[
                ZoneKind::Lan,
                ZoneKind::Servers,
                ZoneKind::Mgmt,
                ZoneKind::Guest,
                ZoneKind::Quarantine,
                ZoneKind::Internet,
                ZoneKind::Tslcd,
            ],
        );
        all("uplink_kind", &[UplinkKind::Internet, UplinkKind::Tslcd]);
        all("action", &[Action::Allow, Action::Deny]);
        let types: Vec<DeviceType> = crate::pages::devices::TYPES
            .iter()
            .map(|t| toml::Value::String((*t).into()).try_into().unwrap())
            .collect();
        assert_eq!(types.len(), 15);
        all("device_type", &types);
        all(
            "wifi_security",
            &[
                WifiSecurity::Open,
                WifiSecurity::Wpa2,
                WifiSecurity::Wpa3,
                WifiSecurity::Wpa2Wpa3,
            ],
        );
        all(
            "probe_kind",
            &[
                ProbeKind::Icmp,
                ProbeKind::Tcp,
                ProbeKind::Dns,
                ProbeKind::Http,
                ProbeKind::Https,
            ],
        );
        all(
            "outcome",
            &[
                edgeward_event::Outcome::Success,
                edgeward_event::Outcome::Failure,
            ],
        );
        assert_eq!(
            super::Lang::Vi.value("zone_kind", &ZoneKind::Guest),
            "Khách"
        );
        assert_eq!(super::Lang::Vi.service("https"), "HTTPS");
        assert_eq!(super::Lang::Vi.service("any"), "Mọi dịch vụ");
        assert_eq!(super::Lang::Vi.service("ke-toan"), "ke-toan");
    }

    /// One term per concept: no Vietnamese text of the UI uses a word docs/GLOSSARY.md lists
    /// as not to be used, and no text shows an internal regulation reference.
    #[test]
    fn the_ui_follows_the_glossary() {
        let glossary = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/GLOSSARY.md"),
        )
        .unwrap();
        let mut avoided = Vec::new();
        for line in glossary
            .lines()
            .take_while(|l| !l.starts_with("## Regulations"))
        {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            if cells.len() == 5 && !cells[1].is_empty() && cells[1] != "English" {
                avoided.extend(
                    cells[3]
                        .split(',')
                        .map(str::trim)
                        .filter(|w| !w.is_empty() && !w.starts_with("---")),
                );
            }
        }
        assert!(avoided.len() >= 6, "{avoided:?}");
        for (key, (vi, _)) in TABLE.iter() {
            let lower = vi.to_lowercase();
            for word in &avoided {
                assert!(
                    !lower.contains(&word.to_lowercase()),
                    "{key}: `{vi}` uses `{word}` (see docs/GLOSSARY.md)"
                );
            }
            assert!(!vi.contains('§'), "{key}: internal reference in `{vi}`");
        }
        for code in [
            "io",
            "bad-version",
            "malformed",
            "bad-signature",
            "part-mismatch",
            "not-newer",
            "slot",
            "write",
            "busy",
        ] {
            assert!(
                TABLE.contains_key(format!("update_code.{code}").as_str()),
                "{code}"
            );
        }
    }

    #[test]
    fn vietnamese_is_the_default() {
        assert_eq!(Lang::default(), Lang::Vi);
        assert_eq!(Lang::Vi.t("nav.logout"), "Đăng xuất");
        assert_eq!(Lang::En.t("nav.logout"), "Log out");
    }
}
