//! `edgeward-config`: the one declarative model of an agency gateway.
//!
//! TOML in, a validated [`Config`] out — or every problem at once, each with file, line, column,
//! field path and a hint. Also the versioned history of applied configurations. No I/O beyond
//! reading and writing its own files.

#[macro_use]
pub mod text;
pub mod change;
pub mod diagnostic;
pub mod history;
pub mod locate;
pub mod model;
pub mod secrets;
pub mod services;
pub mod tomldoc;
pub mod validate;

use std::path::Path;

use chrono::NaiveDate;

pub use diagnostic::{Code, FieldPath, Position, Problem, Problems};
pub use model::*;
pub use text::{Lang, Text};

/// The default profile for a provincial agency, shipped with the product.
pub const AGENCY_DEFAULT_PROFILE: &str = include_str!("../../profiles/agency-default.toml");

/// Why a configuration file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(#[from] Problems),
}

/// Parse and validate a configuration text. `file` names it in messages.
pub fn parse(text: &str, file: &str, today: NaiveDate) -> Result<Config, Problems> {
    parse_against(text, file, today, &[])
}

/// Parse and validate `text` as a change from the configuration `running` (its text): what
/// the change leaves as it runs is not refused for having aged (a Wi-Fi passphrase past its
/// rotation, 004 §7.2 — the running box reports that every day, and may block the network).
/// `parse_change(t, f, d, t)` accepts the running configuration itself on any later day: at
/// start, on a rollback, on a new day.
pub fn parse_change(
    text: &str,
    file: &str,
    today: NaiveDate,
    running: &str,
) -> Result<Config, Problems> {
    let running_wifi = toml::from_str::<Config>(running)
        .map(|c| c.wifi)
        .unwrap_or_default();
    parse_against(text, file, today, &running_wifi)
}

fn parse_against(
    text: &str,
    file: &str,
    today: NaiveDate,
    running_wifi: &[WifiNetwork],
) -> Result<Config, Problems> {
    let locator = locate::Locator::new(text);
    let config: Config = match toml::from_str(text) {
        Ok(c) => c,
        Err(e) => {
            let position = e.span().map(|s| Position::of_offset(text, s.start));
            let syntax = tomldoc::document(text).is_none();
            let mut message = e.message().trim().to_string();
            if message.is_empty() {
                message = e.to_string();
            }
            let code = if syntax { Code::Syntax } else { Code::Schema };
            let mut problem = Problem::new(code, FieldPath::root(), toml_error_text(&message))
                .hint(if syntax {
                    say!(
                        "this is not valid TOML; check quotes, brackets and `=` on this line",
                        "đây không phải TOML hợp lệ; hãy kiểm tra dấu nháy, dấu ngoặc và dấu `=` trên dòng này"
                    )
                } else {
                    say!(
                        "see profiles/agency-default.toml for every section and field",
                        "xem tệp mẫu `profiles/agency-default.toml` để biết mọi mục và trường"
                    )
                });
            problem.position = position;
            return Err(Problems {
                file: file.to_string(),
                problems: vec![problem],
            });
        }
    };
    let mut problems = validate::validate_change(&config, today, running_wifi);
    if problems.is_empty() {
        return Ok(config);
    }
    for p in &mut problems {
        p.position = locator.position(&p.path);
    }
    problems.sort_by_key(|p| p.position.map(|pos| (pos.line, pos.column)));
    Err(Problems {
        file: file.to_string(),
        problems,
    })
}

/// A TOML reader's message in both languages: the usual serde shapes (missing, unknown or
/// mistyped field, unknown value) are said in Vietnamese with the names kept as written; any
/// other message is quoted as the reader wrote it.
fn toml_error_text(message: &str) -> Text {
    let quoted = |s: &str| s.split('`').nth(1).unwrap_or("").to_string();
    let expected = |s: &str| {
        s.split_once("expected ")
            .map(|(_, e)| e.trim_end_matches('.').to_string())
            .unwrap_or_default()
    };
    let vi = if message.starts_with("missing field") {
        format!("thiếu trường bắt buộc `{}`", quoted(message))
    } else if message.starts_with("unknown field") {
        format!(
            "mục này không có trường `{}`; các trường hợp lệ: {}",
            quoted(message),
            expected(message).replace("one of ", "")
        )
    } else if message.starts_with("unknown variant") {
        format!(
            "giá trị `{}` không được dùng ở đây; các giá trị hợp lệ: {}",
            quoted(message),
            expected(message).replace("one of ", "")
        )
    } else if message.starts_with("invalid type") || message.starts_with("invalid value") {
        format!("sai kiểu giá trị; trình đọc TOML báo: `{message}`")
    } else if message.starts_with("duplicate key") {
        format!("khóa `{}` bị khai báo hai lần", quoted(message))
    } else {
        format!("trình đọc TOML báo: `{}`", message.replace('`', "'"))
    };
    Text::new(message, vi)
}

/// Read, parse and validate a configuration file; returns the model and the exact text.
pub fn load(path: &Path, today: NaiveDate) -> Result<(Config, String), LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let config = parse(&text, &path.display().to_string(), today)?;
    Ok((config, text))
}

/// Today's date in UTC, for callers that validate "now".
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}
