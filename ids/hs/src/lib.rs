//! `edgeward-hs`: the part of Hyperscan (Intel's SIMD multi-pattern matcher, the library
//! Suricata uses; here the system's `libhs`) that the IDS prefilter needs — a set of literals,
//! each case-sensitive or not, compiled into a [`Database`] shared read-only by every worker
//! thread, scanned with a per-thread [`Scratch`], each matching pattern reported once per scan.
//!
//! All `unsafe` lives in this file; every call's contract is stated where it is made.
#![warn(missing_docs)]

use std::ffi::{CStr, c_char, c_int, c_uint, c_ulonglong, c_void};
use std::ptr::{self, NonNull};

mod ffi {
    use super::{c_char, c_int, c_uint, c_ulonglong, c_void};

    #[repr(C)]
    pub struct hs_database_t {
        _private: [u8; 0],
    }
    #[repr(C)]
    pub struct hs_scratch_t {
        _private: [u8; 0],
    }
    #[repr(C)]
    pub struct hs_compile_error_t {
        pub message: *mut c_char,
        pub expression: c_int,
    }
    pub type MatchHandler = unsafe extern "C" fn(
        id: c_uint,
        from: c_ulonglong,
        to: c_ulonglong,
        flags: c_uint,
        context: *mut c_void,
    ) -> c_int;

    pub const HS_SUCCESS: c_int = 0;
    pub const HS_SCAN_TERMINATED: c_int = -3;
    pub const HS_FLAG_CASELESS: c_uint = 1;
    pub const HS_FLAG_SINGLEMATCH: c_uint = 8;
    pub const HS_MODE_BLOCK: c_uint = 1;

    unsafe extern "C" {
        pub fn hs_valid_platform() -> c_int;
        pub fn hs_compile_lit_multi(
            expressions: *const *const c_char,
            flags: *const c_uint,
            ids: *const c_uint,
            lens: *const usize,
            elements: c_uint,
            mode: c_uint,
            platform: *const c_void,
            db: *mut *mut hs_database_t,
            error: *mut *mut hs_compile_error_t,
        ) -> c_int;
        pub fn hs_free_compile_error(error: *mut hs_compile_error_t) -> c_int;
        pub fn hs_free_database(db: *mut hs_database_t) -> c_int;
        pub fn hs_database_size(db: *const hs_database_t, size: *mut usize) -> c_int;
        pub fn hs_alloc_scratch(db: *const hs_database_t, scratch: *mut *mut hs_scratch_t)
        -> c_int;
        pub fn hs_clone_scratch(src: *const hs_scratch_t, dest: *mut *mut hs_scratch_t) -> c_int;
        pub fn hs_free_scratch(scratch: *mut hs_scratch_t) -> c_int;
        pub fn hs_scan(
            db: *const hs_database_t,
            data: *const c_char,
            length: c_uint,
            flags: c_uint,
            scratch: *mut hs_scratch_t,
            on_event: Option<MatchHandler>,
            context: *mut c_void,
        ) -> c_int;
    }
}

/// What went wrong, with Hyperscan's own message where it gives one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// This CPU lacks what the library needs (SSSE3).
    #[error("Hyperscan does not run on this CPU")]
    UnsupportedPlatform,
    /// The set could not be compiled.
    #[error("Hyperscan could not compile pattern {pattern:?}: {message}")]
    Compile {
        /// Index of the offending pattern, if the library names one.
        pattern: Option<usize>,
        /// The library's message.
        message: String,
    },
    /// More patterns than ids (`u32`).
    #[error("too many patterns")]
    TooMany,
    /// Any other library error code.
    #[error("Hyperscan error {0} in {1}")]
    Code(i32, &'static str),
}

fn check(code: c_int, call: &'static str) -> Result<(), Error> {
    if code == ffi::HS_SUCCESS {
        Ok(())
    } else {
        Err(Error::Code(code, call))
    }
}

/// Whether the library can run here.
pub fn available() -> bool {
    // SAFETY: no arguments; only inspects the CPU.
    unsafe { ffi::hs_valid_platform() == ffi::HS_SUCCESS }
}

/// One literal of a set.
#[derive(Debug, Clone, Copy)]
pub struct Literal<'a> {
    /// The bytes (any bytes, NUL included).
    pub bytes: &'a [u8],
    /// Match ASCII letters in either case.
    pub caseless: bool,
}

/// A compiled set of literals, immutable; share it between threads (`Sync`).
pub struct Database {
    db: NonNull<ffi::hs_database_t>,
    patterns: usize,
}

// SAFETY: a compiled database is read-only; Hyperscan documents concurrent scans of one
// database (each with its own scratch) as safe.
unsafe impl Send for Database {}
// SAFETY: as above: no method mutates the database.
unsafe impl Sync for Database {}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("patterns", &self.patterns)
            .field("bytes", &self.size())
            .finish_non_exhaustive()
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // SAFETY: `db` came from hs_compile_lit_multi and is freed once, here.
        unsafe {
            ffi::hs_free_database(self.db.as_ptr());
        }
    }
}

impl Database {
    /// Compile `literals` for block scanning; pattern `i` is reported as id `i`, once per scan.
    pub fn literals(literals: &[Literal<'_>]) -> Result<Database, Error> {
        if !available() {
            return Err(Error::UnsupportedPlatform);
        }
        let n = c_uint::try_from(literals.len()).map_err(|_| Error::TooMany)?;
        let exprs: Vec<*const c_char> = literals
            .iter()
            .map(|l| l.bytes.as_ptr().cast::<c_char>())
            .collect();
        let lens: Vec<usize> = literals.iter().map(|l| l.bytes.len()).collect();
        let flags: Vec<c_uint> = literals
            .iter()
            .map(|l| ffi::HS_FLAG_SINGLEMATCH | if l.caseless { ffi::HS_FLAG_CASELESS } else { 0 })
            .collect();
        let ids: Vec<c_uint> = (0..n).collect();
        let mut db: *mut ffi::hs_database_t = ptr::null_mut();
        let mut err: *mut ffi::hs_compile_error_t = ptr::null_mut();
        // SAFETY: the four arrays have `n` elements each and outlive the call; the expressions
        // are read with their lengths (not NUL-terminated); `db` and `err` are out-pointers.
        let code = unsafe {
            ffi::hs_compile_lit_multi(
                exprs.as_ptr(),
                flags.as_ptr(),
                ids.as_ptr(),
                lens.as_ptr(),
                n,
                ffi::HS_MODE_BLOCK,
                ptr::null(),
                &raw mut db,
                &raw mut err,
            )
        };
        if code != ffi::HS_SUCCESS {
            let (pattern, message) = if err.is_null() {
                (None, format!("error code {code}"))
            } else {
                // SAFETY: on failure `err` points to a compile error whose message is a
                // NUL-terminated string; it is read, then freed once.
                unsafe {
                    let e = &*err;
                    let message = if e.message.is_null() {
                        String::new()
                    } else {
                        CStr::from_ptr(e.message).to_string_lossy().into_owned()
                    };
                    let pattern = usize::try_from(e.expression).ok();
                    ffi::hs_free_compile_error(err);
                    (pattern, message)
                }
            };
            return Err(Error::Compile { pattern, message });
        }
        let db = NonNull::new(db).ok_or(Error::Code(code, "hs_compile_lit_multi"))?;
        Ok(Database {
            db,
            patterns: literals.len(),
        })
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.patterns
    }

    /// Whether it has no patterns (never: an empty set does not compile).
    pub fn is_empty(&self) -> bool {
        self.patterns == 0
    }

    /// Bytes the compiled database takes.
    pub fn size(&self) -> usize {
        let mut size = 0usize;
        // SAFETY: valid database, out-pointer to a local.
        let code = unsafe { ffi::hs_database_size(self.db.as_ptr(), &raw mut size) };
        if code == ffi::HS_SUCCESS { size } else { 0 }
    }

    /// Scan `data`, calling `on_match(id)` once for every pattern found in it.
    /// `scratch` must have been prepared for this database ([`Scratch::prepare`]).
    pub fn scan(
        &self,
        scratch: &mut Scratch,
        data: &[u8],
        mut on_match: impl FnMut(u32),
    ) -> Result<(), Error> {
        let length = c_uint::try_from(data.len()).map_err(|_| Error::Code(-1, "hs_scan"))?;
        let mut callback: &mut dyn FnMut(u32) = &mut on_match;
        // SAFETY: the database and the scratch are valid; `data` lives for the call; the
        // context is a pointer to `callback`, which outlives the call and is only used by
        // `trampoline` during it.
        let code = unsafe {
            ffi::hs_scan(
                self.db.as_ptr(),
                data.as_ptr().cast::<c_char>(),
                length,
                0,
                scratch.ptr.as_ptr(),
                Some(trampoline),
                (&raw mut callback).cast::<c_void>(),
            )
        };
        if code == ffi::HS_SUCCESS || code == ffi::HS_SCAN_TERMINATED {
            Ok(())
        } else {
            Err(Error::Code(code, "hs_scan"))
        }
    }
}

/// Hands each match to the Rust closure behind `context`; a panic stops the scan.
unsafe extern "C" fn trampoline(
    id: c_uint,
    _from: c_ulonglong,
    _to: c_ulonglong,
    _flags: c_uint,
    context: *mut c_void,
) -> c_int {
    // SAFETY: `context` is the `&mut &mut dyn FnMut(u32)` passed by `Database::scan`, valid for
    // the duration of the scan that calls this.
    let callback = unsafe { &mut *context.cast::<&mut dyn FnMut(u32)>() };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| callback(id))) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

/// Per-thread working memory for scans; grown to fit every database it is prepared for.
pub struct Scratch {
    ptr: NonNull<ffi::hs_scratch_t>,
}

// SAFETY: a scratch may move between threads; it is used by one scan at a time (`&mut`).
unsafe impl Send for Scratch {}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scratch").finish_non_exhaustive()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // SAFETY: allocated by hs_alloc_scratch/hs_clone_scratch, freed once here.
        unsafe {
            ffi::hs_free_scratch(self.ptr.as_ptr());
        }
    }
}

impl Scratch {
    /// A scratch prepared for `db`.
    pub fn new(db: &Database) -> Result<Scratch, Error> {
        let mut s: *mut ffi::hs_scratch_t = ptr::null_mut();
        // SAFETY: valid database; a null `s` asks the library to allocate.
        check(
            unsafe { ffi::hs_alloc_scratch(db.db.as_ptr(), &raw mut s) },
            "hs_alloc_scratch",
        )?;
        let ptr = NonNull::new(s).ok_or(Error::Code(-1, "hs_alloc_scratch"))?;
        Ok(Scratch { ptr })
    }

    /// Grow this scratch so it also serves `db`.
    pub fn prepare(&mut self, db: &Database) -> Result<(), Error> {
        let mut s = self.ptr.as_ptr();
        // SAFETY: valid database and scratch; the library may reallocate and update `s`.
        check(
            unsafe { ffi::hs_alloc_scratch(db.db.as_ptr(), &raw mut s) },
            "hs_alloc_scratch",
        )?;
        self.ptr = NonNull::new(s).ok_or(Error::Code(-1, "hs_alloc_scratch"))?;
        Ok(())
    }

    /// Another scratch like this one, for another thread.
    pub fn try_clone(&self) -> Result<Scratch, Error> {
        let mut s: *mut ffi::hs_scratch_t = ptr::null_mut();
        // SAFETY: valid source scratch; `s` is an out-pointer.
        check(
            unsafe { ffi::hs_clone_scratch(self.ptr.as_ptr(), &raw mut s) },
            "hs_clone_scratch",
        )?;
        let ptr = NonNull::new(s).ok_or(Error::Code(-1, "hs_clone_scratch"))?;
        Ok(Scratch { ptr })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(bytes: &[u8], caseless: bool) -> Literal<'_> {
        Literal { bytes, caseless }
    }

    #[test]
    fn reports_each_pattern_once_with_case_rules() {
        let db = Database::literals(&[
            lit(b"abc", true),
            lit(b"XyZ", false),
            lit(b"\0\x01", false),
            lit(b"b", true),
        ])
        .unwrap();
        let mut s = Scratch::new(&db).unwrap();
        let mut hits = Vec::new();
        db.scan(&mut s, b"ABC abc xyz XyZ \0\x01 bbbb", |id| hits.push(id))
            .unwrap();
        hits.sort_unstable();
        assert_eq!(hits, [0, 1, 2, 3]);
        let mut hits = Vec::new();
        db.scan(&mut s, b"xyz", |id| hits.push(id)).unwrap();
        assert!(hits.is_empty());
    }

    #[test]
    fn one_scratch_serves_several_databases_and_clones_for_threads() {
        let a = Database::literals(&[lit(b"alpha", false)]).unwrap();
        let b = Database::literals(&[lit(b"beta", true), lit(b"gamma", true)]).unwrap();
        let mut s = Scratch::new(&a).unwrap();
        s.prepare(&b).unwrap();
        let b = std::sync::Arc::new(b);
        let clone = s.try_clone().unwrap();
        let b2 = b.clone();
        let t = std::thread::spawn(move || {
            let mut clone = clone;
            let mut n = 0;
            b2.scan(&mut clone, b"GAMMA beta", |_| n += 1).unwrap();
            n
        });
        let mut n = 0;
        a.scan(&mut s, b"alpha", |_| n += 1).unwrap();
        assert_eq!(n, 1);
        assert_eq!(t.join().unwrap(), 2);
    }

    #[test]
    fn a_panicking_callback_stops_the_scan_without_unwinding_into_c() {
        let db = Database::literals(&[lit(b"a", false)]).unwrap();
        let mut s = Scratch::new(&db).unwrap();
        let r = db.scan(&mut s, b"aaaa", |_| panic!("boom"));
        assert!(r.is_ok());
    }

    #[test]
    fn empty_sets_are_an_error_not_a_crash() {
        assert!(matches!(
            Database::literals(&[]),
            Err(Error::Compile { .. } | Error::Code(..))
        ));
    }
}
