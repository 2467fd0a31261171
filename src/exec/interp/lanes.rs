//! Multi-task evaluation in the interpreter: the tasks of one evaluation side by side, one lane
//! per task, each instruction run over every running lane before the next. The lanes share the
//! decoding and the dispatch of each instruction, and their independent chains of arithmetic
//! overlap in the processor where one task's examples would wait on each other.
//!
//! Each lane has its own memory and random stream and runs exactly the instructions the
//! interpreter runs on its task alone, in the same order, so every lane's outcome is the
//! single-task outcome bit for bit; lanes stop training and fail validations on their own.

use super::program::{Decoded, Program};
use super::{exec, score, stops_training, train_prediction};
use crate::exec::epochs::{LanePasses, MAX_LANES, TrainPass, run_epochs_lanes, validation_fitness};
use crate::exec::{LaneObserver, Limits, Outcome};
use crate::task::Task;
use amlz_ir::kernels::Dim;
use amlz_ir::{Layout, Rng};

/// The memories of one multi-task evaluation: one layout-sized block per lane, back to back,
/// and the scratch area of aliased matrix products. Reused across evaluations.
#[derive(Clone, Debug, Default)]
pub struct LaneMemory {
    buf: Vec<f64>,
    scratch: Vec<f64>,
}

impl LaneMemory {
    /// Zeroes `lanes` memories of `layout`.
    fn reset(&mut self, layout: &Layout, lanes: usize) {
        self.buf.clear();
        self.buf.resize(layout.len() * lanes, 0.0);
        let f = layout.features();
        if self.scratch.len() < f * f {
            self.scratch.resize(f * f, 0.0);
        }
    }

    /// The memory values of lane `lane` in layout order, as its evaluation ended them.
    pub fn lane(&self, layout: &Layout, lane: usize) -> &[f64] {
        &self.buf[lane * layout.len()..(lane + 1) * layout.len()]
    }
}

/// Evaluates `program` on each of `tasks` side by side: `out[lane]` is what
/// [`super::evaluate`] returns for `tasks[lane]` with random stream `rngs[lane]`, each stream
/// is left where that evaluation leaves it, and `observer` sees each lane's predictions.
///
/// # Panics
/// If there are more than [`MAX_LANES`] tasks, if `rngs` or `out` do not hold one per task, or
/// if the tasks differ in shape ([`crate::exec::epochs::same_shape`]) or feature size from the
/// program's layout.
pub fn evaluate_lanes<O: LaneObserver>(
    program: &Program,
    tasks: &[&Task],
    memory: &mut LaneMemory,
    rngs: &mut [Rng],
    limits: &Limits,
    out: &mut [Outcome],
    observer: &mut O,
) {
    let layout = program.layout();
    assert!(
        tasks.len() <= MAX_LANES && rngs.len() == tasks.len() && out.len() == tasks.len(),
        "one random stream and one outcome per lane, at most MAX_LANES lanes"
    );
    assert!(
        tasks.iter().all(|t| t.features == layout.features()),
        "program decoded for another feature size"
    );
    if tasks.is_empty() {
        return;
    }
    memory.reset(&layout, tasks.len());
    let lanes = (tasks, rngs, limits, out, observer);
    with_dim!(layout.features(), d => evaluate_dim(d, program, memory, lanes))
}

/// One lane while it runs: its memory, where its `v0` lies, its random stream, its task, and
/// the visiting order of the epoch being trained (null: the stored order). Raw pointers, so that
/// the hot loops over lanes read them without bounds checks.
#[derive(Clone, Copy)]
struct Lane {
    index: usize,
    mem: *mut f64,
    v0: *mut f64,
    rng: *mut Rng,
    task: *const Task,
    order: *const u32,
}

impl Lane {
    /// An unused slot of the lane table.
    const IDLE: Lane = Lane {
        index: 0,
        mem: std::ptr::null_mut(),
        v0: std::ptr::null_mut(),
        rng: std::ptr::null_mut(),
        task: std::ptr::null(),
        order: std::ptr::null(),
    };

    /// The lane's task.
    ///
    /// # Safety
    /// The lane must be one of `evaluate_dim`'s, which borrows the tasks for its whole length.
    #[inline(always)]
    unsafe fn task<'t>(&self) -> &'t Task {
        unsafe { &*self.task }
    }

    /// The train example visited `k`-th in the epoch being trained.
    ///
    /// # Safety
    /// `k` must be below the task's number of train examples.
    #[inline(always)]
    unsafe fn example(&self, k: usize) -> usize {
        match self.order.is_null() {
            true => k,
            false => unsafe { *self.order.add(k) as usize },
        }
    }
}

type LaneArgs<'a, 'b, O> = (
    &'a [&'b Task],
    &'a mut [Rng],
    &'a Limits,
    &'a mut [Outcome],
    &'a mut O,
);

fn evaluate_dim<D: Dim, O: LaneObserver>(
    d: D,
    program: &Program,
    memory: &mut LaneMemory,
    (tasks, rngs, limits, out, observer): LaneArgs<'_, '_, O>,
) {
    let layout = program.layout();
    let base = memory.buf.as_mut_ptr();
    let mut all = [Lane::IDLE; MAX_LANES];
    for (index, lane) in all.iter_mut().enumerate().take(tasks.len()) {
        // SAFETY: the buffer holds one layout per task.
        let mem = unsafe { base.add(index * layout.len()) };
        *lane = Lane {
            index,
            mem,
            // SAFETY: the vector bank lies inside the layout.
            v0: unsafe { mem.add(layout.vector_base()) },
            rng: &mut rngs[index],
            task: tasks[index],
            order: std::ptr::null(),
        };
    }
    let mut passes = Passes {
        d,
        program,
        tasks,
        all,
        scratch: memory.scratch.as_mut_ptr(),
        observer,
    };
    // SAFETY: every lane's memory holds the program's layout, whose addresses were checked.
    unsafe {
        let lanes = passes.running(&[true; MAX_LANES][..tasks.len()]);
        run(d, &program.setup, lanes.as_slice(), passes.scratch);
    }
    run_epochs_lanes(tasks, limits, &mut passes, out);
}

/// The lanes a pass runs, compacted as lanes leave it.
struct Running {
    lanes: [Lane; MAX_LANES],
    len: usize,
}

impl Running {
    fn as_slice(&self) -> &[Lane] {
        &self.lanes[..self.len]
    }

    /// Takes the lane at position `at` out of the pass.
    fn remove(&mut self, at: usize) {
        self.len -= 1;
        self.lanes[at] = self.lanes[self.len];
    }
}

/// The running lanes as the kernel's memories: each instruction is dispatched once and its
/// work runs lane after lane.
impl exec::Memories for &[Lane] {
    #[inline(always)]
    fn each(self, mut f: impl FnMut(*mut f64, &mut Rng)) {
        for lane in self {
            // SAFETY: each lane's stream is its own element of the caller's `rngs`, borrowed
            // for the whole evaluation.
            f(lane.mem, unsafe { &mut *lane.rng });
        }
    }
}

/// Runs `code` over every lane, one instruction at a time.
///
/// # Safety
/// Every lane's memory must hold the layout the code was decoded for; `scratch` at least F².
#[inline(always)]
unsafe fn run<D: Dim>(d: D, code: &[Decoded], lanes: &[Lane], scratch: *mut f64) {
    for ins in code {
        unsafe { exec::step(d, ins, lanes, scratch) };
    }
}

/// The interpreter's passes over the lanes' tasks.
struct Passes<'a, D, O> {
    d: D,
    program: &'a Program,
    tasks: &'a [&'a Task],
    all: [Lane; MAX_LANES],
    scratch: *mut f64,
    observer: &'a mut O,
}

impl<D: Dim, O> Passes<'_, D, O> {
    fn running(&self, running: &[bool]) -> Running {
        let mut r = Running {
            lanes: self.all,
            len: 0,
        };
        for (lane, _) in running.iter().enumerate().filter(|(_, on)| **on) {
            r.lanes[r.len] = self.all[lane];
            r.len += 1;
        }
        r
    }
}

impl<D: Dim, O: LaneObserver> LanePasses for Passes<'_, D, O> {
    fn train(&mut self, epoch: usize, count: usize, running: &[bool], passes: &mut [TrainPass]) {
        let (d, f, scratch) = (self.d, self.d.n(), self.scratch);
        let mut lanes = self.running(running);
        for lane in &mut lanes.lanes[..lanes.len] {
            let order = self.tasks[lane.index].epoch_order(epoch);
            lane.order = order.map_or(std::ptr::null(), <[u32]>::as_ptr);
        }
        // SAFETY: every lane's memory holds the program's layout (see `evaluate_dim`); the
        // example indices come from the tasks' visiting orders, permutations of their examples.
        unsafe {
            for k in 0..count {
                for lane in lanes.as_slice() {
                    let task = lane.task();
                    let x = task.train_features.as_ptr().add(lane.example(k) * f);
                    std::ptr::copy_nonoverlapping(x, lane.v0, f);
                    *lane.mem = 0.0;
                }
                run(d, &self.program.predict, lanes.as_slice(), scratch);
                let mut at = 0;
                while at < lanes.len {
                    let lane = lanes.lanes[at];
                    let (task, m, i) = (lane.task(), lane.mem, lane.example(k));
                    let prediction = train_prediction(task, m);
                    let label = *task.train_labels.get_unchecked(i);
                    self.observer.train(lane.index, label, prediction);
                    if stops_training(task, label, prediction) {
                        passes[lane.index] = TrainPass {
                            steps: k as u64,
                            stopped: true,
                        };
                        lanes.remove(at);
                        continue;
                    }
                    if self.program.predict_writes_features {
                        let x = task.train_features.as_ptr().add(i * f);
                        std::ptr::copy_nonoverlapping(x, lane.v0, f);
                    }
                    *m = label;
                    at += 1;
                }
                run(d, &self.program.learn, lanes.as_slice(), scratch);
            }
        }
        for lane in lanes.as_slice() {
            passes[lane.index] = TrainPass {
                steps: count as u64,
                stopped: false,
            };
        }
    }

    fn validate(&mut self, count: usize, running: &[bool], fitness: &mut [f64]) {
        let (d, f, scratch) = (self.d, self.d.n(), self.scratch);
        let mut lanes = self.running(running);
        let mut loss = [0.0; MAX_LANES];
        let mut wrong = [0usize; MAX_LANES];
        // SAFETY: as in `train`; `i` is below every lane's number of validation examples.
        unsafe {
            for i in 0..count {
                for lane in lanes.as_slice() {
                    let x = lane.task().valid_features.as_ptr().add(i * f);
                    std::ptr::copy_nonoverlapping(x, lane.v0, f);
                    *lane.mem = 0.0;
                }
                run(d, &self.program.predict, lanes.as_slice(), scratch);
                let mut at = 0;
                while at < lanes.len {
                    let lane = lanes.lanes[at];
                    let task = lane.task();
                    let prediction = *lane.mem.add(1);
                    let label = *task.valid_labels.get_unchecked(i);
                    self.observer.valid(lane.index, label, prediction);
                    let ok = score(
                        task,
                        label,
                        prediction,
                        &mut loss[lane.index],
                        &mut wrong[lane.index],
                    );
                    if !ok {
                        fitness[lane.index] = 0.0;
                        lanes.remove(at);
                        continue;
                    }
                    at += 1;
                }
            }
        }
        for lane in lanes.as_slice() {
            // SAFETY: as above.
            let task = unsafe { lane.task() };
            fitness[lane.index] = validation_fitness(
                task.eval_type,
                false,
                loss[lane.index],
                wrong[lane.index],
                count,
            );
        }
    }
}
