//! The code memory of one generation: a [`JITMemoryProvider`] that bumps through one region of
//! address space reserved up front.
//!
//! Every compile is finalized at once (its code runs right after), so a generation holds as many
//! finalized pieces as functions. `cranelift_jit::ArenaMemoryProvider` keeps each piece as a
//! segment of its own and scans all of them on every allocation and every finalize, which makes
//! the cost of a compile grow with the number of functions already in the generation, and it
//! changes protection twice per function (the new segment read+write, then read+execute). Here
//! the region is committed read+write in steps of [`COMMIT_BYTES`], and a finalize makes the
//! pages written since the last one read+execute, one protection change, after which the next
//! function starts on a fresh page. W^X holds: no page is ever writable and executable at once.

use cranelift_jit::{BranchProtection, JITMemoryKind, JITMemoryProvider};
use cranelift_module::{ModuleError, ModuleResult};
use std::io;

/// How much of the region is made writable at a time.
const COMMIT_BYTES: usize = 256 * 1024;

/// A region of reserved address space handed out front to back for executable code.
pub(crate) struct CodeRegion {
    /// The reservation; `None` once freed.
    region: Option<region::Allocation>,
    /// Its first byte.
    base: *mut u8,
    /// Its length.
    len: usize,
    /// Bytes `[0, writable_end)` are committed (read+write, or read+execute below `sealed`).
    writable_end: usize,
    /// Bytes `[0, sealed)` are finalized: read+execute.
    sealed: usize,
    /// The next free byte (at least `sealed`).
    next: usize,
    /// The page size.
    page: usize,
}

// SAFETY: the raw pointer is into the owned reservation; moving the owner between threads moves
// the whole region with it.
unsafe impl Send for CodeRegion {}

impl CodeRegion {
    /// Reserves `len` bytes of address space (rounded up to pages), inaccessible until used.
    pub(crate) fn new(len: usize) -> io::Result<CodeRegion> {
        let page = region::page::size();
        let len = len.max(page).next_multiple_of(page);
        let mut region = region::alloc(len, region::Protection::NONE).map_err(io::Error::other)?;
        let base = region.as_mut_ptr::<u8>();
        Ok(CodeRegion {
            region: Some(region),
            base,
            len,
            writable_end: 0,
            sealed: 0,
            next: 0,
            page,
        })
    }
}

impl JITMemoryProvider for CodeRegion {
    fn allocate(&mut self, size: usize, align: u64, kind: JITMemoryKind) -> io::Result<*mut u8> {
        if !matches!(kind, JITMemoryKind::Executable) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "compiled loops define no data objects",
            ));
        }
        if self.region.is_none() {
            return Err(io::Error::other("code memory already freed"));
        }
        let align = usize::try_from(align)
            .ok()
            .filter(|a| a.is_power_of_two() && *a <= self.page)
            .ok_or_else(|| io::Error::other(format!("unsupported code alignment {align}")))?;
        let start = self.next.next_multiple_of(align);
        let end = start
            .checked_add(size.max(1))
            .filter(|&end| end <= self.len)
            .ok_or_else(|| io::Error::new(io::ErrorKind::OutOfMemory, "code region full"))?;
        if end > self.writable_end {
            let new_end = end.next_multiple_of(COMMIT_BYTES).min(self.len);
            // SAFETY: `[writable_end, new_end)` lies in the reservation and holds no code yet.
            unsafe {
                region::protect(
                    self.base.add(self.writable_end),
                    new_end - self.writable_end,
                    region::Protection::READ_WRITE,
                )
            }
            .map_err(io::Error::other)?;
            self.writable_end = new_end;
        }
        self.next = end;
        // SAFETY: `start < len`, inside the reservation.
        Ok(unsafe { self.base.add(start) })
    }

    unsafe fn free_memory(&mut self) {
        // Dropping the reservation unmaps it.
        self.region = None;
        self.writable_end = 0;
        self.sealed = 0;
        self.next = 0;
    }

    fn finalize(&mut self, branch_protection: BranchProtection) -> ModuleResult<()> {
        let fail = |err: io::Error| ModuleError::Allocation { err };
        if branch_protection != BranchProtection::None {
            return Err(fail(io::Error::new(
                io::ErrorKind::Unsupported,
                "branch target protection is not supported by the JIT's code memory",
            )));
        }
        let end = self.next.next_multiple_of(self.page).min(self.len);
        if end > self.sealed && self.region.is_some() {
            // SAFETY: `sealed < end <= len`: inside the reservation.
            let (ptr, len) = (unsafe { self.base.add(self.sealed) }, end - self.sealed);
            // SAFETY: the pages `[sealed, end)` are committed and hold the code written since
            // the last finalize; nothing writes them after this.
            unsafe {
                wasmtime_jit_icache_coherence::clear_cache(ptr.cast(), len).map_err(fail)?;
                region::protect(ptr, len, region::Protection::READ_EXECUTE)
                    .map_err(|e| fail(io::Error::other(e)))?;
            }
            wasmtime_jit_icache_coherence::pipeline_flush_mt().map_err(fail)?;
            self.sealed = end;
            self.next = end;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_are_packed_sealed_and_refused_when_full() {
        let mut r = CodeRegion::new(4 * COMMIT_BYTES).unwrap();
        let page = r.page;
        let a = r.allocate(100, 16, JITMemoryKind::Executable).unwrap();
        let b = r.allocate(100, 16, JITMemoryKind::Executable).unwrap();
        assert_eq!(b as usize - a as usize, 112, "unfinalized code is packed");
        // SAFETY: both pieces are writable until finalized.
        unsafe {
            a.write_bytes(0xc3, 100);
            b.write_bytes(0xc3, 100);
        }
        r.finalize(BranchProtection::None).unwrap();
        let c = r.allocate(10, 16, JITMemoryKind::Executable).unwrap();
        assert_eq!(
            c as usize - a as usize,
            page,
            "after a finalize, a fresh page"
        );
        assert!(
            r.allocate(10, 8, JITMemoryKind::Writable).is_err(),
            "no data objects"
        );
        assert!(
            r.allocate(5 * COMMIT_BYTES, 16, JITMemoryKind::Executable)
                .is_err()
        );
        assert!(
            r.finalize(BranchProtection::BTI).is_err(),
            "BTI is refused, not ignored"
        );
        // SAFETY: nothing runs from the region.
        unsafe { r.free_memory() };
        assert!(r.allocate(10, 16, JITMemoryKind::Executable).is_err());
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn finalized_code_runs() {
        let mut r = CodeRegion::new(1 << 20).unwrap();
        let mut fns = Vec::new();
        for k in 0..50u32 {
            // mov eax, k; ret
            let mut code = vec![0xb8];
            code.extend_from_slice(&k.to_le_bytes());
            code.push(0xc3);
            let p = r
                .allocate(code.len(), 16, JITMemoryKind::Executable)
                .unwrap();
            // SAFETY: `p` is writable for `code.len()` bytes until the finalize below.
            unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), p, code.len()) };
            r.finalize(BranchProtection::None).unwrap();
            fns.push(p);
        }
        for (k, &p) in fns.iter().enumerate() {
            // SAFETY: `p` holds a whole `extern "C" fn() -> u32`, now executable.
            let f: extern "C" fn() -> u32 = unsafe { std::mem::transmute(p) };
            assert_eq!(f(), k as u32);
        }
        // SAFETY: none of the functions runs again.
        unsafe { r.free_memory() };
    }
}
