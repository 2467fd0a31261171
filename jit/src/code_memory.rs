//! Executable memory for compiled loops, without a system call per function.
//!
//! A function is a few hundred bytes to a few kilobytes. `cranelift-jit`'s module maps a fresh
//! page per function, makes it executable with `mprotect` and unmaps it on `free_memory`: four
//! system calls and a page fault per function (about 20 µs here, an eighth of a small compile),
//! 4 KB of memory for 300 bytes of code, and every one of those calls takes the process-wide
//! memory-map lock that all worker threads share.
//!
//! Here a generation's code goes into chunks of [`CHUNK_BYTES`] that are mapped twice from one
//! anonymous memory file (`memfd_create`): once writable, once executable, never both in one
//! mapping (W^X holds). A function is copied into the writable view and called through the
//! executable view at the same offset, so installing one is a bump of an offset and a `memcpy`.
//! The chunks are unmapped when the generation is dropped, which happens once no compiled code
//! of it can run any more.
//!
//! Where `memfd_create` is refused (an old kernel, a seccomp filter), each function gets its own
//! pages, written and then made executable with `mprotect`: slower, as safe.
//!
//! x86-64 Linux only: x86 keeps instruction fetch coherent with stores, so fresh code needs no
//! cache maintenance (other architectures would; the compiler refuses to start there and the
//! interpreter runs everything).

use crate::JitError;
use std::ptr::NonNull;

/// Size of one shared chunk (a function larger than this gets a chunk of its own).
pub(crate) const CHUNK_BYTES: usize = 256 * 1024;

/// How code gets into executable memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mapping {
    /// Chunks mapped twice from a memory file: writable view and executable view.
    DualView,
    /// Pages per function: written, then `mprotect`ed to read+execute.
    Protect,
}

/// One mapping (or pair of mappings) of code memory.
struct Chunk {
    /// Where code is written.
    write: NonNull<u8>,
    /// Where the same bytes are executed (the same address as `write` under [`Mapping::Protect`]
    /// once protected).
    exec: NonNull<u8>,
    /// Length of each view in bytes (a multiple of the page size).
    len: usize,
    /// Bytes used from the start.
    used: usize,
    /// Whether further functions may be written into it.
    open: bool,
}

/// The code memory of one generation. Not `Sync`: one compiler writes it; compiled code only
/// holds it alive (through the generation's `Arc`) and calls into its executable views.
pub(crate) struct CodeMemory {
    mapping: Mapping,
    chunks: Vec<Chunk>,
    page: usize,
}

// SAFETY: the raw pointers are owned mappings; moving the owner between threads is sound.
unsafe impl Send for CodeMemory {}

impl CodeMemory {
    /// Empty code memory that maps chunks the way `mapping` says, on first use.
    pub(crate) fn new(mapping: Mapping) -> CodeMemory {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        CodeMemory {
            mapping,
            chunks: Vec::new(),
            page: usize::try_from(page).unwrap_or(4096).max(4096),
        }
    }

    /// The mapping this machine supports best: dual views if a memory file can be created.
    pub(crate) fn best_mapping() -> Mapping {
        match map_dual(4096) {
            Ok((write, exec)) => {
                unmap(write, 4096);
                unmap(exec, 4096);
                Mapping::DualView
            }
            Err(_) => Mapping::Protect,
        }
    }

    /// Bytes of address space mapped for code (both views count once).
    #[cfg(test)]
    pub(crate) fn mapped_bytes(&self) -> usize {
        self.chunks.iter().map(|c| c.len).sum()
    }

    /// Copies `code` into executable memory at an address aligned to `align` (a power of two
    /// at most the page size), letting `patch` fix up the copy (relocations) before it becomes
    /// executable; `patch` gets the writable bytes and the address they will run at. Returns
    /// that address.
    pub(crate) fn install(
        &mut self,
        code: &[u8],
        align: usize,
        patch: impl FnOnce(&mut [u8], usize) -> Result<(), JitError>,
    ) -> Result<NonNull<u8>, JitError> {
        if !align.is_power_of_two() || align > self.page {
            return Err(JitError::Module(format!(
                "code alignment {align} is not a power of two up to the page size"
            )));
        }
        let start = self.reserve(code.len(), align)?;
        let chunk = self.chunks.last_mut().expect("reserve made a chunk");
        // SAFETY: `reserve` guarantees `start + code.len() <= chunk.len` and that nothing
        // has been written there; the writable view is mapped read+write.
        let bytes = unsafe {
            let dst = chunk.write.as_ptr().add(start);
            std::ptr::copy_nonoverlapping(code.as_ptr(), dst, code.len());
            std::slice::from_raw_parts_mut(dst, code.len())
        };
        // SAFETY: in bounds of the executable view, as above.
        let exec = unsafe { chunk.exec.add(start) };
        patch(bytes, exec.as_ptr() as usize)?;
        chunk.used = start + code.len();
        if self.mapping == Mapping::Protect {
            // SAFETY: the chunk is a private mapping of `len` bytes that we own.
            let rc = unsafe {
                libc::mprotect(
                    chunk.write.as_ptr().cast(),
                    chunk.len,
                    libc::PROT_READ | libc::PROT_EXEC,
                )
            };
            chunk.open = false;
            if rc != 0 {
                return Err(JitError::Module(format!(
                    "making code executable: {}",
                    std::io::Error::last_os_error()
                )));
            }
        }
        Ok(exec)
    }

    /// Makes room for `len` bytes aligned to `align` at the end of the last chunk, mapping a
    /// new chunk when it has no room; returns the offset in that chunk.
    fn reserve(&mut self, len: usize, align: usize) -> Result<usize, JitError> {
        if let Some(chunk) = self.chunks.last()
            && chunk.open
        {
            let start = chunk.used.next_multiple_of(align);
            if start + len <= chunk.len {
                return Ok(start);
            }
        }
        let size = match self.mapping {
            Mapping::DualView => len.max(CHUNK_BYTES),
            Mapping::Protect => len.max(1),
        }
        .next_multiple_of(self.page);
        let (write, exec) = match self.mapping {
            Mapping::DualView => map_dual(size),
            Mapping::Protect => map_private(size).map(|p| (p, p)),
        }
        .map_err(|e| JitError::Module(format!("mapping {size} bytes of code memory: {e}")))?;
        if let Some(last) = self.chunks.last_mut() {
            last.open = false;
        }
        self.chunks.push(Chunk {
            write,
            exec,
            len: size,
            used: 0,
            open: true,
        });
        Ok(0)
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        for chunk in self.chunks.drain(..) {
            unmap(chunk.write, chunk.len);
            if chunk.exec != chunk.write {
                unmap(chunk.exec, chunk.len);
            }
        }
    }
}

/// Maps `len` bytes of a fresh memory file twice: read+write and read+execute.
fn map_dual(len: usize) -> std::io::Result<(NonNull<u8>, NonNull<u8>)> {
    // SAFETY: plain system calls on a descriptor we own; every failure is checked and the
    // descriptor is closed on all paths (the mappings keep the file alive).
    unsafe {
        let fd = libc::memfd_create(c"amlz-jit-code".as_ptr(), libc::MFD_CLOEXEC);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let result = (|| {
            let size = libc::off_t::try_from(len).map_err(std::io::Error::other)?;
            if libc::ftruncate(fd, size) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let write = map_fd(fd, len, libc::PROT_READ | libc::PROT_WRITE)?;
            match map_fd(fd, len, libc::PROT_READ | libc::PROT_EXEC) {
                Ok(exec) => Ok((write, exec)),
                Err(e) => {
                    unmap(write, len);
                    Err(e)
                }
            }
        })();
        libc::close(fd);
        result
    }
}

/// Maps `len` bytes of `fd` shared with protection `prot`.
///
/// # Safety
/// `fd` must be an open descriptor of a file at least `len` bytes long.
unsafe fn map_fd(fd: libc::c_int, len: usize, prot: libc::c_int) -> std::io::Result<NonNull<u8>> {
    // SAFETY: guaranteed by the caller.
    mapped(unsafe { libc::mmap(std::ptr::null_mut(), len, prot, libc::MAP_SHARED, fd, 0) })
}

/// Maps `len` bytes of private anonymous read+write memory.
fn map_private(len: usize) -> std::io::Result<NonNull<u8>> {
    // SAFETY: an anonymous mapping at an address of the kernel's choice.
    mapped(unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    })
}

/// The result of an `mmap` call: its address, or the error it set.
fn mapped(p: *mut libc::c_void) -> std::io::Result<NonNull<u8>> {
    if p == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    NonNull::new(p.cast()).ok_or_else(|| std::io::Error::other("mmap returned null"))
}

fn unmap(p: NonNull<u8>, len: usize) {
    // SAFETY: `p` is a mapping of `len` bytes made by this module and unmapped once.
    unsafe {
        libc::munmap(p.as_ptr().cast(), len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `mov eax, imm32; ret`: returns `imm`.
    fn returns(imm: u32) -> Vec<u8> {
        let mut code = vec![0xb8];
        code.extend_from_slice(&imm.to_le_bytes());
        code.push(0xc3);
        code
    }

    fn call(p: NonNull<u8>) -> u32 {
        // SAFETY: `p` holds `returns(..)`, a complete function of this signature.
        let f: extern "C" fn() -> u32 = unsafe { std::mem::transmute(p.as_ptr()) };
        f()
    }

    fn installs_and_runs(mapping: Mapping) {
        let mut mem = CodeMemory::new(mapping);
        let mut fns = Vec::new();
        for k in 0..200u32 {
            let p = mem
                .install(&returns(k), 16, |_, _| Ok(()))
                .expect("installs");
            assert_eq!(p.as_ptr() as usize % 16, 0);
            fns.push(p);
        }
        // Patching sees the bytes and the address they run at.
        let p = mem
            .install(&returns(0), 16, |bytes, at| {
                bytes[1..5].copy_from_slice(&7u32.to_le_bytes());
                assert_eq!(at % 16, 0);
                Ok(())
            })
            .unwrap();
        assert_eq!(call(p), 7);
        for (k, &p) in fns.iter().enumerate() {
            assert_eq!(call(p), k as u32);
        }
        // A function larger than a chunk gets a chunk of its own.
        let mut big = vec![0x90; CHUNK_BYTES + 100];
        big.extend(returns(99));
        let p = mem.install(&big, 16, |_, _| Ok(())).unwrap();
        assert_eq!(call(p), 99);
        assert_eq!(call(fns[3]), 3);
    }

    #[test]
    fn dual_view_code_runs_and_packs_functions_densely() {
        if CodeMemory::best_mapping() != Mapping::DualView {
            eprintln!("memfd_create is refused here: the JIT uses protected pages (tested below)");
            return;
        }
        installs_and_runs(Mapping::DualView);
        let mut mem = CodeMemory::new(Mapping::DualView);
        for k in 0..1000 {
            mem.install(&returns(k), 16, |_, _| Ok(())).unwrap();
        }
        assert_eq!(mem.mapped_bytes(), CHUNK_BYTES);
    }

    #[test]
    fn protected_pages_code_runs() {
        installs_and_runs(Mapping::Protect);
    }

    #[test]
    fn a_failed_patch_is_reported() {
        let mut mem = CodeMemory::new(Mapping::DualView);
        let err = mem
            .install(&returns(1), 16, |_, _| {
                Err(JitError::Module("no such symbol".into()))
            })
            .unwrap_err();
        assert_eq!(err, JitError::Module("no such symbol".into()));
        assert!(mem.install(&returns(1), 3, |_, _| Ok(())).is_err());
    }
}
