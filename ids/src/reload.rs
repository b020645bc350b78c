//! Ruleset reload: a new ruleset is loaded and compiled on a background thread while the engine
//! keeps running the current one; only a ruleset that loads without a malformed rule is swapped
//! in (atomically, through an `ArcSwap`), and engines pick it up between packet batches.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use arc_swap::ArcSwap;

use crate::loader::{LoadError, LoadReport, LoadedRules};
use crate::ruleset::RuleSet;
use crate::vars::Vars;

/// Why a reload was refused (the running ruleset stays).
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("{count} malformed rule(s), first: {first}")]
    Malformed {
        count: usize,
        first: String,
        report: Box<LoadReport>,
    },
    #[error("the reload thread panicked")]
    Panicked,
}

/// The ruleset every engine reads; swapped whole.
pub struct SharedRules {
    current: ArcSwap<RuleSet>,
}

impl SharedRules {
    pub fn new(initial: RuleSet) -> Self {
        SharedRules {
            current: ArcSwap::from_pointee(initial),
        }
    }

    /// The ruleset in force.
    pub fn current(&self) -> Arc<RuleSet> {
        self.current.load_full()
    }

    /// Load and compile `path`; errors leave nothing changed.
    pub fn compile(path: &Path, vars: &Vars) -> Result<RuleSet, ReloadError> {
        Self::compile_enforced(path, vars, &crate::enforce::Enforcement::default())
    }

    /// As [`SharedRules::compile`], with the built-in rules ([`crate::builtin`]) added and an
    /// enforcement policy applied before compiling.
    pub fn compile_enforced(
        path: &Path,
        vars: &Vars,
        policy: &crate::enforce::Enforcement,
    ) -> Result<RuleSet, ReloadError> {
        let mut loaded = LoadedRules::load(path, vars)?;
        if let Some(first) = loaded.report.errors.first() {
            return Err(ReloadError::Malformed {
                count: loaded.report.errors.len(),
                first: first.to_string(),
                report: Box::new(loaded.report.clone()),
            });
        }
        crate::builtin::add(&mut loaded, vars);
        policy.apply(&mut loaded);
        Ok(RuleSet::compile(loaded))
    }

    /// Start compiling `path` in the background; [`Reload::finish`] swaps it in if it compiled.
    pub fn reload(self: &Arc<Self>, path: PathBuf, vars: Vars) -> Reload {
        let handle = std::thread::spawn(move || Self::compile(&path, &vars));
        Reload {
            shared: Arc::clone(self),
            handle,
        }
    }

    /// Swap in an already compiled ruleset.
    pub fn swap(&self, set: RuleSet) {
        self.current.store(Arc::new(set));
    }
}

/// A reload in progress.
pub struct Reload {
    shared: Arc<SharedRules>,
    handle: JoinHandle<Result<RuleSet, ReloadError>>,
}

impl Reload {
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Wait for the compile; on success the new ruleset is in force and its report returned.
    pub fn finish(self) -> Result<LoadReport, ReloadError> {
        let set = self.handle.join().map_err(|_| ReloadError::Panicked)??;
        let report = set.report.clone();
        self.shared.swap(set);
        Ok(report)
    }
}

impl crate::engine::Engine {
    /// Between batches: switch to the shared ruleset if it changed.
    pub fn refresh(&mut self, shared: &SharedRules) -> bool {
        let now = shared.current();
        if Arc::ptr_eq(&now, self.rules()) {
            return false;
        }
        self.swap_rules(now);
        true
    }
}
