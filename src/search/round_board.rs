//! Where a rank's island threads and its exchanger meet between rounds (SEMANTICS.md §7,
//! "Islands"): each island posts its status at the end of every round and goes on at once; the
//! exchanger waits for all local posts of a round, gathers them over the ranks and publishes the
//! round's statuses of every island; an island reads round k's statuses only at the end of
//! round k + 1. No thread waits on another for longer than it is a whole round behind, and no
//! lock is held while an island evaluates.
//!
//! A published round may carry a [`RoundNote`]: take a checkpoint at the end of the next round
//! (each island then posts a snapshot of its state), and stop there.

use super::evolution::StopReason;
use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// What the exchanger asks of the islands with a published round k.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RoundNote {
    /// Post a snapshot at the end of round k + 1, once round k is applied.
    pub checkpoint: bool,
    /// Stop after that snapshot, for this reason (Ctrl-C or the deadline).
    pub stop: Option<StopReason>,
}

/// One round's statuses of every island, in island order, as the exchanger published them, with
/// its note.
#[derive(Debug)]
pub struct Gathered<S> {
    /// The statuses, by island number.
    pub statuses: Vec<S>,
    /// What the islands are to do at the end of the next round.
    pub note: RoundNote,
}

/// A local island's posts: the rounds it posted and not yet taken, and whether it has ended.
struct Posts<S, P> {
    pending: BTreeMap<u64, S>,
    /// The status it ended with, standing in for every later round.
    last: Option<S>,
    /// Set when its thread unwound without posting its end: rounds and checkpoints that need it
    /// fail.
    abandoned: bool,
    /// Snapshots posted for a round's checkpoint, not yet taken.
    snapshots: BTreeMap<u64, P>,
    /// The snapshot it ended with, standing in for every later checkpoint.
    last_snapshot: Option<P>,
}

struct State<S, P> {
    posts: Vec<Posts<S, P>>,
    /// Gathered rounds still to be read (at most the last two are kept).
    gathered: BTreeMap<u64, Arc<Gathered<S>>>,
    /// Set when the exchange failed or stopped: waiting islands stop.
    closed: bool,
}

/// The meeting point of `n` local islands and one exchanger, for statuses of type `S` and
/// snapshots of type `P`.
pub struct RoundBoard<S, P> {
    state: Mutex<State<S, P>>,
    changed: Condvar,
}

impl<S: Clone, P: Clone> RoundBoard<S, P> {
    /// A board for `n` local islands.
    pub fn new(n: usize) -> RoundBoard<S, P> {
        let posts = (0..n)
            .map(|_| Posts {
                pending: BTreeMap::new(),
                last: None,
                abandoned: false,
                snapshots: BTreeMap::new(),
                last_snapshot: None,
            })
            .collect();
        RoundBoard {
            state: Mutex::new(State {
                posts,
                gathered: BTreeMap::new(),
                closed: false,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<S, P>> {
        // A thread that panicked holding the lock left consistent data (every update is one
        // insertion); the panic itself reaches the caller through the thread scope.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Local island `k`'s status at the end of `round`; with `last`, the island has ended and
    /// this status stands for every later round too.
    pub fn post(&self, k: usize, round: u64, status: S, last: bool) {
        let mut st = self.lock();
        let posts = &mut st.posts[k];
        if last {
            posts.last = Some(status.clone());
        }
        posts.pending.insert(round, status);
        drop(st);
        self.changed.notify_all();
    }

    /// Local island `k`'s snapshot for the checkpoint at the end of `round`; with `last`, the
    /// island has ended and this snapshot stands for every later checkpoint too.
    pub fn post_snapshot(&self, k: usize, round: u64, snapshot: P, last: bool) {
        let mut st = self.lock();
        let posts = &mut st.posts[k];
        if last {
            posts.last_snapshot = Some(snapshot);
        } else {
            posts.snapshots.insert(round, snapshot);
        }
        drop(st);
        self.changed.notify_all();
    }

    /// Every local island's snapshot for the checkpoint at the end of `round`, in order, once
    /// each has posted it or ended with one; `None` if an island ended without one.
    pub fn take_snapshots(&self, round: u64) -> Option<Vec<P>> {
        let mut st = self.lock();
        loop {
            let ready = st.posts.iter().all(|p| {
                p.snapshots.contains_key(&round) || p.last_snapshot.is_some() || p.abandoned
            });
            if ready {
                let mut out = Vec::with_capacity(st.posts.len());
                for p in &mut st.posts {
                    let s = p
                        .snapshots
                        .remove(&round)
                        .or_else(|| p.last_snapshot.clone())?;
                    out.push(s);
                }
                return Some(out);
            }
            st = self.changed.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Marks local island `k` ended without a status (its thread is unwinding): the exchanger
    /// then closes the board instead of waiting for it.
    pub fn abandon(&self, k: usize) {
        let mut st = self.lock();
        st.posts[k].abandoned = true;
        drop(st);
        self.changed.notify_all();
    }

    /// Every local island's status of `round`, in order, once each has posted it or ended;
    /// `None` if an island ended without a status.
    pub fn take_local(&self, round: u64) -> Option<Vec<S>> {
        let mut st = self.lock();
        loop {
            let ready = st
                .posts
                .iter()
                .all(|p| p.pending.contains_key(&round) || p.last.is_some() || p.abandoned);
            if ready {
                let mut out = Vec::with_capacity(st.posts.len());
                for p in &mut st.posts {
                    // Rounds before `round` were taken already.
                    let s = p.pending.remove(&round).or_else(|| p.last.clone())?;
                    out.push(s);
                }
                return Some(out);
            }
            st = self.changed.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Publishes `round`'s statuses of every island, with what the islands are to do at the end
    /// of the next round.
    pub fn publish(&self, round: u64, statuses: Vec<S>, note: RoundNote) {
        let mut st = self.lock();
        st.gathered
            .insert(round, Arc::new(Gathered { statuses, note }));
        while st.gathered.len() > 2 {
            st.gathered.pop_first();
        }
        drop(st);
        self.changed.notify_all();
    }

    /// Ends the exchange: islands waiting for a round, and those that will, get `None`.
    pub fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
    }

    /// `round`'s statuses of every island, once published; `None` if the board was closed first.
    pub fn gathered(&self, round: u64) -> Option<Arc<Gathered<S>>> {
        let mut st = self.lock();
        loop {
            if let Some(g) = st.gathered.get(&round) {
                return Some(g.clone());
            }
            if st.closed {
                return None;
            }
            st = self.changed.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_is_taken_once_every_island_posted_or_ended() {
        let board = RoundBoard::<_, ()>::new(2);
        board.post(0, 1, "a1", false);
        board.post(1, 1, "b1", true);
        assert_eq!(board.take_local(1), Some(vec!["a1", "b1"]));
        board.post(0, 2, "a2", false);
        // Island 1 ended: its last status stands in.
        assert_eq!(board.take_local(2), Some(vec!["a2", "b1"]));
    }

    #[test]
    fn an_island_that_abandons_makes_the_round_fail_and_closing_frees_waiters() {
        let board = RoundBoard::<u32, ()>::new(2);
        board.post(0, 1, 7, false);
        board.abandon(1);
        assert_eq!(board.take_local(1), None);
        std::thread::scope(|s| {
            let waiter = s.spawn(|| board.gathered(1));
            board.close();
            assert!(waiter.join().unwrap().is_none());
        });
        board.publish(3, vec![1, 2], RoundNote::default());
        assert_eq!(board.gathered(3).unwrap().statuses, vec![1, 2]);
    }

    #[test]
    fn only_the_last_two_rounds_are_kept() {
        let board = RoundBoard::<_, ()>::new(1);
        for r in 1..=4 {
            board.publish(r, vec![r], RoundNote::default());
        }
        board.close();
        assert!(board.gathered(2).is_none());
        assert_eq!(board.gathered(3).unwrap().statuses, vec![3]);
    }

    #[test]
    fn snapshots_are_taken_per_round_and_an_ended_island_s_stands_in() {
        let board = RoundBoard::<(), &str>::new(2);
        board.post_snapshot(0, 4, "a4", false);
        board.post_snapshot(1, 2, "b-end", true);
        assert_eq!(board.take_snapshots(4), Some(vec!["a4", "b-end"]));
        board.post_snapshot(0, 6, "a6", false);
        assert_eq!(board.take_snapshots(6), Some(vec!["a6", "b-end"]));
        board.abandon(0);
        assert_eq!(board.take_snapshots(8), None);
    }
}
