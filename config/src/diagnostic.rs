//! Problems found in a configuration, each pointing at a file, line and column with a hint.

use std::fmt;

use crate::text::{Lang, Text};

/// A step into the document: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Where in the model a problem is, e.g. `zones[2].prefixes[0]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }
    /// `FieldPath::at("zones").index(2).key("prefixes")`.
    pub fn at(key: &str) -> Self {
        FieldPath(vec![Segment::Key(key.to_string())])
    }
    pub fn key(mut self, key: &str) -> Self {
        self.0.push(Segment::Key(key.to_string()));
        self
    }
    pub fn index(mut self, i: usize) -> Self {
        self.0.push(Segment::Index(i));
        self
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                Segment::Key(k) if first => write!(f, "{k}")?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

/// A 1-based line and column in the source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// Line and column of a byte offset in `text`.
    pub fn of_offset(text: &str, offset: usize) -> Position {
        let offset = offset.min(text.len());
        let before = &text[..floor_char_boundary(text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Position {
            line,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A stable identifier for each kind of problem, so tests, the UI and translations can refer to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    Syntax,
    Schema,
    InvalidName,
    DuplicateName,
    UnknownZone,
    UnknownInterface,
    UnknownUplink,
    UnknownService,
    RoleZoneMismatch,
    OverlappingPrefixes,
    AddressOutsideZone,
    UplinkZoneHasPrefixes,
    InternalZoneWithoutPrefixes,
    GuestToInternal,
    GuestToTslcd,
    UplinkToGateway,
    AdminOnUplink,
    ZeroWeight,
    TooFewIsps,
    TslcdWithoutPrefixes,
    TslcdPrefixOverlapsInternal,
    UplinkWithoutProbes,
    UplinkNotWanInterface,
    HealthThresholds,
    InvalidMac,
    DuplicateMac,
    DuplicateAddress,
    WeakAccountPolicy,
    WifiInsecure,
    WifiStalePassphrase,
    PortForwardTarget,
    UnknownAddressGroup,
    FirewallSettings,
    LogRetention,
    IdsSettings,
    DhcpRange,
    NacSettings,
    DeviceApproval,
    TimeSettings,
    SshSettings,
    WifiRadio,
    WifiToTslcd,
}

/// One problem in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: Code,
    pub path: FieldPath,
    /// What is wrong, in English (the CLI, the API, logs).
    pub message: String,
    pub hint: Option<String>,
    /// Filled in when the problem is located in a source text.
    pub position: Option<Position>,
    /// The same, in both UI languages.
    pub text: Text,
    pub hint_text: Option<Text>,
}

impl Problem {
    pub fn new(code: Code, path: FieldPath, text: Text) -> Self {
        Problem {
            code,
            path,
            message: text.en.clone(),
            hint: None,
            position: None,
            text,
            hint_text: None,
        }
    }
    pub fn hint(mut self, hint: Text) -> Self {
        self.hint = Some(hint.en.clone());
        self.hint_text = Some(hint);
        self
    }
    /// What is wrong, in `lang`.
    pub fn message_in(&self, lang: Lang) -> &str {
        self.text.get(lang)
    }
    /// How to fix it, in `lang`.
    pub fn hint_in(&self, lang: Lang) -> Option<&str> {
        self.hint_text.as_ref().map(|h| h.get(lang))
    }
}

/// Every problem of one file, rendered `file:line:col: field: message (hint: …)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Problems {
    pub file: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        writeln!(
            f,
            "{}: {n} problem{}",
            self.file,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            match p.position {
                Some(pos) => write!(f, "{}:{}:{}: ", self.file, pos.line, pos.column)?,
                None => write!(f, "{}: ", self.file)?,
            }
            if !p.path.0.is_empty() {
                write!(f, "{}: ", p.path)?;
            }
            write!(f, "{}", p.message)?;
            if let Some(h) = &p.hint {
                write!(f, "\n    hint: {h}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

impl Problems {
    pub fn codes(&self) -> Vec<Code> {
        self.problems.iter().map(|p| p.code).collect()
    }
}
