//! The recycle sweep: a tokio-cron-scheduler job that tells every runner to re-evaluate its
//! recycle deadline, at least once a minute however slow the device's own poll interval is,
//! and once at start-up.
//!
//! The job bumps a counter on a `watch` channel; each runner holds a receiver and turns a
//! change into [`super::machine::Event::Sweep`]. A burst of sweeps while a runner is busy
//! coalesces into one. The expression is checked before anything else starts: the crate wants
//! six fields (seconds first) and its own error says nothing useful, so ours says which.

use std::sync::Arc;

use tokio::sync::watch;
use tokio_cron_scheduler::{Job, JobScheduler};

use super::KeeperError;

/// The sweep's schedule: second 0 of every minute (six fields: seconds first).
pub const SWEEP_SCHEDULE: &str = "0 * * * * *";

/// The running sweep job; [`Sweeper::stop`] ends it.
pub(crate) struct Sweeper {
    scheduler: JobScheduler,
    sweeps: Arc<watch::Sender<u64>>,
}

/// The sweep job on `expression`; the error says what a valid expression looks like.
fn job(expression: &str, sweeps: Arc<watch::Sender<u64>>) -> Result<Job, KeeperError> {
    Job::new_async(expression, move |_, _| {
        let sweeps = Arc::clone(&sweeps);
        Box::pin(async move {
            sweeps.send_modify(|n| *n = n.wrapping_add(1));
        })
    })
    .map_err(|_| {
        KeeperError::Sweep(format!(
            "schedule `{expression}` is not a valid cron expression: it needs six fields \
             (second minute hour day-of-month month day-of-week), e.g. `{SWEEP_SCHEDULE}`"
        ))
    })
}

impl Sweeper {
    /// Starts the job on `expression`; runners subscribe with [`Sweeper::subscribe`].
    pub(crate) async fn start(expression: &str) -> Result<Sweeper, KeeperError> {
        let sweeps = Arc::new(watch::channel(0).0);
        let job = job(expression, Arc::clone(&sweeps))?;
        let failed = |what: &str, e: tokio_cron_scheduler::JobSchedulerError| {
            KeeperError::Sweep(format!("cannot {what} the scheduler: {e:?}"))
        };
        let scheduler = JobScheduler::new().await.map_err(|e| failed("create", e))?;
        scheduler.add(job).await.map_err(|e| failed("add to", e))?;
        scheduler.start().await.map_err(|e| failed("start", e))?;
        Ok(Sweeper { scheduler, sweeps })
    }

    /// The channel runners subscribe to (each new receiver sees the next sweep, not the past
    /// ones).
    pub(crate) fn source(&self) -> Arc<watch::Sender<u64>> {
        Arc::clone(&self.sweeps)
    }

    /// Sweeps now (start-up, and after a reload started new runners).
    pub(crate) fn sweep_now(&self) {
        self.sweeps.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Stops the job.
    pub(crate) async fn stop(mut self) {
        if let Err(e) = self.scheduler.shutdown().await {
            tracing::warn!(event = "recycle.sweep_failed", error = ?e, "recycle sweep scheduler did not shut down cleanly");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate(expression: &str) -> Result<(), KeeperError> {
        job(expression, Arc::new(watch::channel(0).0)).map(drop)
    }

    #[test]
    fn the_schedule_is_a_valid_six_field_expression() {
        assert!(validate(SWEEP_SCHEDULE).is_ok());
    }

    #[test]
    fn a_five_field_expression_is_refused_with_a_clear_message() {
        let err = validate("* * * * *").err().map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(err.contains("six fields"), "{err}");
        assert!(err.contains("`* * * * *`"), "{err}");
    }

    #[tokio::test]
    async fn sweep_now_reaches_subscribers() {
        let sweeper = Sweeper::start(SWEEP_SCHEDULE)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut rx = sweeper.source().subscribe();
        sweeper.sweep_now();
        rx.changed().await.unwrap_or_else(|e| panic!("{e}"));
        sweeper.stop().await;
    }
}
