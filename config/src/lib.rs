//! `edgeward-config`: the one declarative model of an agency gateway.
//!
//! TOML in, a validated [`Config`] out — or every problem at once, each with file, line, column,
//! field path and a hint. Also the versioned history of applied configurations. No I/O beyond
//! reading and writing its own files.

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
            return Err(Problems {
                file: file.to_string(),
                problems: vec![Problem {
                    code: if syntax { Code::Syntax } else { Code::Schema },
                    path: FieldPath::root(),
                    message,
                    hint: Some(if syntax {
                        "this is not valid TOML; check quotes, brackets and `=` on this line".into()
                    } else {
                        "see profiles/agency-default.toml for every section and field".into()
                    }),
                    position,
                }],
            });
        }
    };
    let mut problems = validate::validate(&config, today);
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
