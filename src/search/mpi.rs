//! The MPI transport (`mpi` feature): every rank of `MPI_COMM_WORLD` runs the same search; at a
//! round's barrier each rank's message is gathered by every rank (`MPI_Allgather` of the sizes,
//! then `MPI_Allgatherv` of the bytes), so all ranks see the same messages in rank order and
//! make the same draws. A failure aborts the whole job (`MPI_Abort`), so no rank waits forever
//! for one that is gone; MPI's default error handler does the same for failed calls.

use super::transport::{Transport, TransportError};
use mpi::datatype::PartitionMut;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use mpi::{Count, environment::Universe};

/// Whether this process was started by an MPI launcher (`mpirun`, `mpiexec`, `srun`): the
/// variables OpenMPI, PMI and PMIx set for their processes.
pub fn launched_by_mpi() -> bool {
    ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
}

/// `MPI_COMM_WORLD`, initialised for this process (finalised when dropped).
pub struct MpiTransport {
    world: SimpleCommunicator,
    _universe: Universe,
}

impl MpiTransport {
    /// Initialises MPI and installs a panic hook that aborts the job after printing the panic,
    /// so that a panicking rank cannot leave the others waiting.
    ///
    /// # Errors
    /// If MPI was already initialised.
    pub fn init() -> Result<MpiTransport, TransportError> {
        let universe = mpi::initialize()
            .ok_or_else(|| TransportError::Failed("MPI is already initialised".into()))?;
        let world = universe.world();
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            hook(info);
            mpi::topology::SimpleCommunicator::world().abort(101);
        }));
        Ok(MpiTransport {
            world,
            _universe: universe,
        })
    }
}

impl Transport for MpiTransport {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    fn ranks(&self) -> usize {
        self.world.size() as usize
    }

    fn all_gather_bytes(&mut self, bytes: Vec<u8>) -> Result<Vec<Vec<u8>>, TransportError> {
        let n = self.ranks();
        let len = Count::try_from(bytes.len())
            .map_err(|_| TransportError::Message(format!("{} bytes is too long", bytes.len())))?;
        let mut counts: Vec<Count> = vec![0; n];
        self.world.all_gather_into(&len, &mut counts[..]);
        let mut displs = Vec::with_capacity(n);
        let mut total: usize = 0;
        for &c in &counts {
            displs.push(Count::try_from(total).map_err(|_| {
                TransportError::Message("the gathered messages are too long".into())
            })?);
            total += c as usize;
        }
        let mut buffer = vec![0u8; total];
        {
            let mut partition = PartitionMut::new(&mut buffer[..], counts.clone(), &displs[..]);
            self.world
                .all_gather_varcount_into(&bytes[..], &mut partition);
        }
        Ok(counts
            .iter()
            .zip(&displs)
            .map(|(&c, &d)| buffer[d as usize..(d + c) as usize].to_vec())
            .collect())
    }

    fn abort(&self, code: i32) {
        self.world.abort(code);
    }
}
