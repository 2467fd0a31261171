//! Algorithms for people to read and run elsewhere (`amlz show`):
//! - [`mod@simplify`]: dead code removed and addresses renamed in order of first use, with the same
//!   fitness bit for bit;
//! - [`python`]: a self-contained NumPy module whose `evaluate` computes the fitness exactly as
//!   amlz does.

pub mod python;
pub mod simplify;

pub use python::python_module;
pub use simplify::{rename_addresses, simplify};
