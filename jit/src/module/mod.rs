//! Code generations: each one a `cranelift-jit` [`JITModule`] that holds the code of up to
//! [`crate::JitConfig::functions_per_module`] compiled functions.
//!
//! A generation's module declares every helper of [`crate::helpers`] as an imported function, in
//! the order of [`helpers::name_index`], so that the function id of each helper *is* its name
//! index: the lowering names a helper `u0:N` and the module resolves that name to helper `N`'s
//! symbol, which [`JITBuilder::symbols`] registers with its address. Compiled code is defined with
//! [`Module::define_function_bytes`] (the compiler picks one of two ISAs per function, see
//! [`crate::RegAlloc::Adaptive`], while a module has one) and finalized at once, because the
//! caller runs it right after the compile.
//!
//! The code memory is a region of [`ARENA_BYTES`] of address space reserved per generation up
//! front (committed as code is written, see [`memory`]), and is freed with
//! [`JITModule::free_memory`] when the generation drops, which is when the last compiled code of
//! it is dropped: memory stays bounded over a long search.

mod memory;

use crate::JitError;
use crate::helpers;
use cranelift_codegen::ir::Function;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_jit::JITMemoryProvider;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module, ModuleReloc};
use memory::CodeRegion;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Address space a generation reserves for its code: a function is finalized (made executable)
/// on its own pages, so a generation of 1000 functions of a few kilobytes uses some megabytes.
/// When it is exhausted the compiler starts a fresh generation.
pub(crate) const ARENA_BYTES: usize = if cfg!(target_pointer_width = "64") {
    64 << 20
} else {
    8 << 20
};

/// The code memory of a fresh generation: our [`CodeRegion`], or where the host may demand
/// branch target protection (AArch64's BTI, which `CodeRegion` does not apply), `cranelift-jit`'s
/// [`ArenaMemoryProvider`](cranelift_jit::ArenaMemoryProvider).
fn provider() -> Result<Box<dyn JITMemoryProvider + Send>, JitError> {
    let setup = |e: &dyn std::fmt::Display| {
        JitError::Setup(format!("reserving {ARENA_BYTES} bytes of code memory: {e}"))
    };
    if cfg!(target_arch = "aarch64") {
        let arena = cranelift_jit::ArenaMemoryProvider::new_with_size(ARENA_BYTES)
            .map_err(|e| setup(&e))?;
        return Ok(Box::new(arena));
    }
    Ok(Box::new(
        CodeRegion::new(ARENA_BYTES).map_err(|e| setup(&e))?,
    ))
}

/// Generations alive in this process (started and not yet freed), for tests and diagnostics.
pub(crate) static LIVE_GENERATIONS: AtomicUsize = AtomicUsize::new(0);

/// One generation of compiled code: a `JITModule` and the count of live generations it belongs
/// to. Its code memory is freed when it is dropped.
pub(crate) struct Generation {
    /// Written only by the compiler that made the generation; the lock makes the generation
    /// `Sync`, so that compiled code holding it can move between threads. `None` once freed.
    module: Mutex<Option<JITModule>>,
    /// The live-generation count of the compiler that made it.
    live: Arc<AtomicUsize>,
    /// The generation's sequence number in its compiler.
    pub(crate) index: u64,
}

impl Generation {
    /// A fresh generation for `isa` (whose pointer type and calling convention the helper
    /// declarations use), counted in `live`.
    pub(crate) fn new(
        isa: &OwnedTargetIsa,
        index: u64,
        live: &Arc<AtomicUsize>,
    ) -> Result<Generation, JitError> {
        let mut builder =
            JITBuilder::with_isa(isa.clone(), cranelift_module::default_libcall_names());
        builder.symbols(helpers::symbols());
        builder.memory_provider(provider()?);
        let mut module = JITModule::new(builder);
        let (ptr, call_conv) = (isa.pointer_type(), isa.default_call_conv());
        for index in 0..helpers::NAME_COUNT {
            let (name, shape) = helpers::declaration(index);
            let id = module
                .declare_function(&name, Linkage::Import, &shape.signature(ptr, call_conv))
                .map_err(|e| JitError::Setup(format!("declaring helper {name}: {e}")))?;
            if id.as_u32() != index {
                return Err(JitError::Setup(format!(
                    "helper {name} declared as {id}, not function {index}"
                )));
            }
        }
        LIVE_GENERATIONS.fetch_add(1, Ordering::Relaxed);
        live.fetch_add(1, Ordering::Relaxed);
        Ok(Generation {
            module: Mutex::new(Some(module)),
            live: live.clone(),
            index,
        })
    }

    /// Defines `code`, compiled from `func`, in this generation's module, finalizes it and
    /// returns the address of its first instruction.
    pub(crate) fn install(
        &self,
        func: &Function,
        code: &cranelift_codegen::CompiledCode,
        alignment: u64,
    ) -> Result<*const u8, JitError> {
        let mut guard = self
            .module
            .lock()
            .map_err(|_| JitError::Module("code generation lock poisoned".into()))?;
        let module = guard
            .as_mut()
            .ok_or_else(|| JitError::Module("code generation already freed".into()))?;
        let module_err = |e: cranelift_module::ModuleError| JitError::Module(e.to_string());
        let id = module
            .declare_anonymous_function(&func.signature)
            .map_err(module_err)?;
        let relocs: Vec<ModuleReloc> = code
            .buffer
            .relocs()
            .iter()
            .map(|r| ModuleReloc::from_mach_reloc(r, func, id))
            .collect();
        module
            .define_function_bytes(id, alignment, code.code_buffer(), &relocs)
            .map_err(module_err)?;
        module.finalize_definitions().map_err(module_err)?;
        Ok(module.get_finalized_function(id))
    }
}

impl Drop for Generation {
    fn drop(&mut self) {
        let module = match self.module.get_mut() {
            Ok(m) => m.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(module) = module {
            // SAFETY: the last reference to this generation is going away, and every
            // CompiledCode whose functions live here holds an Arc of it, so none of its code
            // can run again.
            unsafe { module.free_memory() };
        }
        LIVE_GENERATIONS.fetch_sub(1, Ordering::Relaxed);
        self.live.fetch_sub(1, Ordering::Relaxed);
    }
}
