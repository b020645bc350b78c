//! Loading a rules directory: every enabled rule of every `*.rules` file, parsed; totals, skips by
//! reason and errors with their place; severities from `classification.config`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use crate::rule::parse::Names;
use crate::rule::{ParseOutcome, Rule, RuleError, parse_rule};
use crate::syntax::enabled_rules;
use crate::vars::Vars;

/// A rule's class: EVE `category` and default severity.
#[derive(Debug, Clone)]
pub struct Class {
    pub description: String,
    pub priority: u8,
}

/// What loading found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadReport {
    pub files: usize,
    /// Enabled rules seen.
    pub total: usize,
    pub loaded: usize,
    /// Skipped rules by reason (`keyword xbits`, `protocol smtp`, `duplicate sid`).
    pub skipped: BTreeMap<String, usize>,
    /// Rules that are wrong; each names file, line, sid and option.
    #[serde(serialize_with = "errors_as_text")]
    pub errors: Vec<RuleError>,
}

fn errors_as_text<S: serde::Serializer>(e: &[RuleError], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(e.iter().map(std::string::ToString::to_string))
}

impl LoadReport {
    pub fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }
    /// A human-readable table: totals, then skips by reason, most common first.
    pub fn table(&self) -> String {
        let mut out = format!(
            "rules: {} enabled in {} files, {} loaded ({:.1}%), {} skipped, {} errors\n",
            self.total,
            self.files,
            self.loaded,
            if self.total == 0 {
                0.0
            } else {
                100.0 * self.loaded as f64 / self.total as f64
            },
            self.skipped_total(),
            self.errors.len()
        );
        let mut rows: Vec<_> = self.skipped.iter().collect();
        rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (reason, n) in rows {
            out.push_str(&format!("  skipped {n:>6}  {reason}\n"));
        }
        for e in self.errors.iter().take(20) {
            out.push_str(&format!("  error  {e}\n"));
        }
        out
    }
}

/// Rules parsed from a directory (or from texts), ready to compile.
#[derive(Debug, Default)]
pub struct LoadedRules {
    pub rules: Vec<Rule>,
    pub names: Names,
    pub classes: HashMap<String, Class>,
    pub report: LoadReport,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("reading {path}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: no *.rules files")]
    Empty { path: String },
}

/// Parse `classification.config` lines `config classification: name,description,priority`.
pub fn parse_classifications(text: &str) -> HashMap<String, Class> {
    let mut out = HashMap::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("config classification:") else {
            continue;
        };
        let parts: Vec<&str> = rest.split(',').map(str::trim).collect();
        if parts.len() == 3
            && let Ok(priority) = parts[2].parse()
        {
            out.insert(
                parts[0].to_string(),
                Class {
                    description: parts[1].to_string(),
                    priority,
                },
            );
        }
    }
    out
}

impl LoadedRules {
    /// Add every enabled rule of one file's text.
    pub fn add_text(
        &mut self,
        file: &str,
        text: &str,
        vars: &Vars,
        seen: &mut HashSet<(u32, u32)>,
    ) {
        let file: Arc<str> = Arc::from(file);
        self.report.files += 1;
        for (line, rule_text) in enabled_rules(text) {
            if rule_text.starts_with("config ") {
                continue;
            }
            self.report.total += 1;
            match parse_rule(&rule_text, &file, line, vars, &mut self.names) {
                Ok(ParseOutcome::Loaded(rule)) => {
                    if !seen.insert((rule.gid, rule.sid)) {
                        *self
                            .report
                            .skipped
                            .entry("duplicate sid".into())
                            .or_default() += 1;
                        continue;
                    }
                    self.report.loaded += 1;
                    self.rules.push(*rule);
                }
                Ok(ParseOutcome::Skipped { reason, .. }) => {
                    *self.report.skipped.entry(reason).or_default() += 1;
                }
                Err(e) => self.report.errors.push(e),
            }
        }
    }

    /// Load every `*.rules` file in `dir` (sorted by name) and its `classification.config`. A
    /// single file may be given instead of a directory.
    pub fn load(path: &Path, vars: &Vars) -> Result<LoadedRules, LoadError> {
        let io = |p: &Path, e| LoadError::Io {
            path: p.display().to_string(),
            source: e,
        };
        let mut out = LoadedRules::default();
        let mut files = Vec::new();
        let class_path = if path.is_dir() {
            for entry in std::fs::read_dir(path).map_err(|e| io(path, e))? {
                let p = entry.map_err(|e| io(path, e))?.path();
                if p.extension().is_some_and(|e| e == "rules") {
                    files.push(p);
                }
            }
            files.sort();
            path.join("classification.config")
        } else {
            files.push(path.to_path_buf());
            path.with_file_name("classification.config")
        };
        if files.is_empty() {
            return Err(LoadError::Empty {
                path: path.display().to_string(),
            });
        }
        if let Ok(text) = std::fs::read_to_string(&class_path) {
            out.classes = parse_classifications(&text);
        }
        let mut seen = HashSet::new();
        for f in &files {
            let bytes = std::fs::read(f).map_err(|e| io(f, e))?;
            let text = String::from_utf8_lossy(&bytes);
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.add_text(&name, &text, vars, &mut seen);
        }
        Ok(out)
    }
}
