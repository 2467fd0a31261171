//! How the parts of one parallel search talk at a round's barrier: a [`Transport`] gathers one
//! message from every rank and gives every rank all of them, in rank order. Islands on threads
//! use [`Local`] (one rank: the message comes straight back); islands on MPI ranks use the MPI
//! transport (`mpi` feature), which sends the same messages serialized. Both run the same round
//! code, so a search on threads and one on ranks make the same draws.

use super::evolution::Individual;
use amlz_ir::{parse_algorithm, print_algorithm};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A transport that failed: a rank gone, or a message that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// A message could not be encoded or decoded.
    #[error("rank message: {0}")]
    Message(String),
    /// The transport itself failed.
    #[error("transport: {0}")]
    Failed(String),
}

/// Every rank's message to every rank, at a barrier.
pub trait Transport {
    /// This process's rank, from 0.
    fn rank(&self) -> usize;
    /// How many ranks take part.
    fn ranks(&self) -> usize;
    /// Every rank's `bytes`, in rank order (a barrier: it returns once all ranks have sent).
    ///
    /// # Errors
    /// If the exchange fails.
    fn all_gather_bytes(&mut self, bytes: Vec<u8>) -> Result<Vec<Vec<u8>>, TransportError>;
    /// Ends every rank of the job with exit status `code` (after a failure on this rank, so that
    /// no other rank waits for it forever). With one rank, nothing.
    fn abort(&self, code: i32) {
        let _ = code;
    }
}

/// The transport of this process: MPI's world when the binary is built with the `mpi` feature
/// and started by an MPI launcher (`mpirun`, `srun`), else [`Local`].
///
/// # Errors
/// If MPI cannot be initialised.
pub fn process_transport() -> Result<Box<dyn Transport>, TransportError> {
    #[cfg(feature = "mpi")]
    if super::mpi::launched_by_mpi() {
        return Ok(Box::new(super::mpi::MpiTransport::init()?));
    }
    Ok(Box::new(Local))
}

/// One process, no other ranks: gathering returns the message itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct Local;

impl Transport for Local {
    fn rank(&self) -> usize {
        0
    }
    fn ranks(&self) -> usize {
        1
    }
    fn all_gather_bytes(&mut self, bytes: Vec<u8>) -> Result<Vec<Vec<u8>>, TransportError> {
        Ok(vec![bytes])
    }
}

/// Every rank's `message`, in rank order: with one rank the message itself, without encoding;
/// else encoded as JSON and gathered by `transport`.
///
/// # Errors
/// If the exchange fails or a message does not decode.
pub fn all_gather<T: Serialize + DeserializeOwned>(
    transport: &mut dyn Transport,
    message: T,
) -> Result<Vec<T>, TransportError> {
    if transport.ranks() == 1 {
        return Ok(vec![message]);
    }
    let bytes = serde_json::to_vec(&message).map_err(|e| TransportError::Message(e.to_string()))?;
    transport
        .all_gather_bytes(bytes)?
        .iter()
        .map(|b| serde_json::from_slice(b).map_err(|e| TransportError::Message(e.to_string())))
        .collect()
}

/// An individual as it travels between ranks: the readable format (lossless, SEMANTICS.md
/// §9.1) and the fitness's bits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireIndividual {
    /// The algorithm, printed.
    pub algorithm: String,
    /// `f64::to_bits` of its fitness.
    pub fitness_bits: u64,
}

impl From<&Individual> for WireIndividual {
    fn from(i: &Individual) -> Self {
        WireIndividual {
            algorithm: print_algorithm(&i.algorithm),
            fitness_bits: i.fitness.to_bits(),
        }
    }
}

impl From<Individual> for WireIndividual {
    fn from(i: Individual) -> Self {
        WireIndividual::from(&i)
    }
}

impl TryFrom<WireIndividual> for Individual {
    type Error = TransportError;

    fn try_from(w: WireIndividual) -> Result<Individual, TransportError> {
        Ok(Individual {
            algorithm: parse_algorithm(&w.algorithm)
                .map_err(|e| TransportError::Message(e.to_string()))?,
            fitness: f64::from_bits(w.fitness_bits),
        })
    }
}
