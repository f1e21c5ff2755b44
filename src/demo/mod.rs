//! `session-keeper demo`: the simulator and the real keeper in one process, with second-scale
//! timings, telling in plain words what happens as it happens.
//!
//! The story has four acts ([`story::ACTS`]): a reconnect that works, a second login a person
//! confirms, one nobody confirms (an alert, then "a person" logs in and it resolves), and an
//! account close to its recycle deadline, added by a config reload. The director changes the
//! simulated world, then listens to the keeper's own log events ([`narrator`]) and to the
//! alerts it posts to a local webhook ([`receiver`]) until the act's ending event arrives.

mod narrator;
mod receiver;
mod story;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::layer::SubscriberExt;

use crate::config::{Config, ConfigError};
use crate::keeper::{self, KeeperError, Reload, RunOptions};
use crate::sim::{DevicePatch, SimError, Simulator};
use crate::vendor::VendorKind;
use narrator::{Narrator, Observed};
use story::Act;

/// The longest an act may take before the demo gives up and says which one stalled.
const ACT_LIMIT: Duration = Duration::from_secs(45);

/// Why the demo could not tell its story.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// Another tracing subscriber was already installed.
    #[error("cannot listen to the keeper's events: {0}")]
    Logging(String),
    /// The simulator or the webhook receiver could not start.
    #[error("cannot start the simulator: {0}")]
    Sim(#[from] SimError),
    /// A local socket or the state directory failed.
    #[error("demo i/o failed: {0}")]
    Io(#[from] std::io::Error),
    /// The demo's own configuration did not validate (a bug).
    #[error("the demo configuration is invalid: {0}")]
    Config(#[from] ConfigError),
    /// The keeper stopped with an error.
    #[error("the keeper failed: {0}")]
    Keeper(#[from] KeeperError),
    /// An act did not reach its ending in time.
    #[error("the demo stalled: {0} did not happen within {limit:?}", limit = ACT_LIMIT)]
    Stalled(String),
}

/// Runs the whole demo, printing the story to stdout. Returns once the story is told and the
/// keeper has stopped.
pub async fn run() -> Result<(), DemoError> {
    let (events_tx, events) = mpsc::unbounded_channel();
    let subscriber = tracing_subscriber::registry().with(Narrator::new(events_tx));
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|err| DemoError::Logging(err.to_string()))?;
    let state_dir =
        std::env::temp_dir().join(format!("session-keeper-demo-{}", std::process::id()));
    let told = tell(events, &state_dir).await;
    // The directory held only this run's store; failing to remove it leaves a temp file.
    let _ = std::fs::remove_dir_all(&state_dir);
    told
}

/// Starts the world, tells every act, stops the keeper.
async fn tell(
    events: mpsc::UnboundedReceiver<Observed>,
    state_dir: &Path,
) -> Result<(), DemoError> {
    let shutdown = CancellationToken::new();
    let simulator = Simulator::new(story::scenario()?);
    for device in story::devices() {
        simulator.upsert_device(device);
    }
    let (sim_addr, sim_served) = simulator
        .clone()
        .bind(
            "127.0.0.1:0".parse().map_err(std::io::Error::other)?,
            shutdown.clone(),
        )
        .await?;
    let (alerts_tx, alerts) = mpsc::unbounded_channel();
    let (hook_addr, hook_served) = receiver::start(alerts_tx, shutdown.clone()).await?;
    let config = |with_archive| {
        let text = story::config_text(sim_addr, hook_addr, state_dir, with_archive);
        Config::from_str(&text, &PathBuf::from("demo.toml"), &|_| None)
    };
    let (reload_tx, reloads) = mpsc::channel(1);
    let keeper_stop = CancellationToken::new();
    let keeper = tokio::spawn(keeper::run(RunOptions {
        config: config(false)?,
        shutdown: keeper_stop.clone(),
        reloads,
        health: crate::health::Health::new(),
        service: crate::service::Service::disabled(),
    }));
    let mut director = Director::new(events, alerts);
    director.prologue();
    let acted = director.play(&simulator, || {
        let config = config(true)?;
        reload_tx
            .try_send(Reload::Config(Box::new(config)))
            .map_err(|err| DemoError::Stalled(format!("the reload ({err})")))
    });
    let acted = acted.await;
    keeper_stop.cancel();
    let stopped = keeper.await.map_err(std::io::Error::other)?;
    shutdown.cancel();
    // Both servers stop within their grace once cancelled; their results carry no data.
    let _ = tokio::join!(sim_served, hook_served);
    acted?;
    stopped?;
    director.epilogue();
    Ok(())
}

/// Prints the story and waits for each act's ending.
struct Director {
    started: Instant,
    events: mpsc::UnboundedReceiver<Observed>,
    alerts: mpsc::UnboundedReceiver<Value>,
    alerts_seen: usize,
    was_offline: HashSet<String>,
}

impl Director {
    fn new(
        events: mpsc::UnboundedReceiver<Observed>,
        alerts: mpsc::UnboundedReceiver<Value>,
    ) -> Self {
        Director {
            started: Instant::now(),
            events,
            alerts,
            alerts_seen: 0,
            was_offline: HashSet::new(),
        }
    }

    /// One timestamped line on stdout.
    fn say(&self, line: &str) {
        let secs = self.started.elapsed().as_secs();
        // A closed stdout (piped into `head`) must not stop the story.
        crate::say!("[{:02}:{:02}] {line}", secs / 60, secs % 60);
    }

    fn prologue(&self) {
        crate::say!(
            "session-keeper demo: a simulated gateway with WeChat accounts on three vendors"
        );
        crate::say!("(GeWe, wechatpro, WKTeam), and the real keeper watching them.");
        crate::say!(
            "Timings are shrunk: a probe every second, an offline is confirmed by 2 answers,"
        );
        crate::say!(
            "a second-login prompt stays valid {}s (3 minutes in real life).\n",
            story::CONFIRM_WINDOW.as_secs()
        );
    }

    /// Waits for the three starting devices, then plays every act.
    async fn play<F>(&mut self, simulator: &Simulator, reload: F) -> Result<(), DemoError>
    where
        F: FnOnce() -> Result<(), DemoError>,
    {
        for device in ["shop-01", "sales-02", "support-03"] {
            self.until("device.online", device).await?;
        }
        let mut reload = Some(reload);
        for act in story::ACTS {
            self.pause(Duration::from_millis(1500)).await;
            crate::say!("\n── {} ──", act.title);
            self.say(&format!("▶ {}", act.intro));
            self.stage(simulator, act, &mut reload)?;
            self.until(act.until.0, act.until.1).await?;
            if act.until == ("incident.opened", "support-03") {
                self.pause(Duration::from_secs(2)).await;
                self.say("▶ a person sees the alert and scans the QR code for support-03");
                simulator.login(VendorKind::Wkteam, "wxid_support03")?;
                self.until("incident.resolved", "support-03").await?;
            }
        }
        self.pause(Duration::from_secs(1)).await;
        Ok(())
    }

    /// Makes the act's change to the world.
    fn stage<F>(
        &self,
        simulator: &Simulator,
        act: Act,
        reload: &mut Option<F>,
    ) -> Result<(), DemoError>
    where
        F: FnOnce() -> Result<(), DemoError>,
    {
        let offline = DevicePatch {
            online: Some(false),
            ..DevicePatch::default()
        };
        match act.until.1 {
            "shop-01" => simulator.patch_device(VendorKind::Gewe, "wx_shop01", offline)?,
            "sales-02" => simulator.patch_device(VendorKind::Wechatpro, "dev-sales02", offline)?,
            "support-03" => {
                simulator.patch_device(VendorKind::Wkteam, "wxid_support03", offline)?
            }
            _ => {
                if let Some(reload) = reload.take() {
                    reload()?;
                }
            }
        }
        Ok(())
    }

    /// Narrates everything until `event` about `device` arrives.
    async fn until(&mut self, event: &str, device: &str) -> Result<(), DemoError> {
        let deadline = tokio::time::Instant::now() + ACT_LIMIT;
        loop {
            tokio::select! {
                seen = self.events.recv() => {
                    let Some(seen) = seen else {
                        return Err(DemoError::Stalled(format!("{event} for {device}")));
                    };
                    self.narrate(&seen);
                    if seen.event == event && seen.device() == device {
                        return Ok(());
                    }
                }
                Some(alert) = self.alerts.recv() => {
                    self.alerts_seen += 1;
                    self.say(&format!("  ✉ {}", receiver::describe(&alert)));
                }
                () = tokio::time::sleep_until(deadline) => {
                    return Err(DemoError::Stalled(format!("{event} for {device}")));
                }
            }
        }
    }

    /// Prints the line for one keeper event; a device that comes back after an offline is
    /// "back online".
    fn narrate(&mut self, seen: &Observed) {
        match seen.event.as_str() {
            "device.offline" => {
                self.was_offline.insert(seen.device().to_owned());
            }
            "device.online" if self.was_offline.remove(seen.device()) => {
                self.say(&format!("{} is back online ✔", seen.device()));
                return;
            }
            _ => {}
        }
        if let Some(line) = narrator::describe(seen) {
            self.say(&line);
        }
    }

    /// Narrates whatever happens for `span`.
    async fn pause(&mut self, span: Duration) {
        let deadline = tokio::time::Instant::now() + span;
        loop {
            tokio::select! {
                Some(seen) = self.events.recv() => self.narrate(&seen),
                Some(alert) = self.alerts.recv() => {
                    self.alerts_seen += 1;
                    self.say(&format!("  ✉ {}", receiver::describe(&alert)));
                }
                () = tokio::time::sleep_until(deadline) => return,
            }
        }
    }

    fn epilogue(&self) {
        crate::say!(
            "\nDone in {}s. The keeper posted {} alert message(s) to the webhook; in production they",
            self.started.elapsed().as_secs(),
            self.alerts_seen
        );
        crate::say!(
            "go to your WeCom, DingTalk or Feishu group, mail, a webhook or a command. Next steps:"
        );
        crate::say!(
            "  session-keeper check-config -c etc/session-keeper.toml   # validate a real config"
        );
        crate::say!(
            "  session-keeper notify-test -c /etc/session-keeper/session-keeper.toml   # test the bots"
        );
        crate::say!("  session-keeper run -c /etc/session-keeper/session-keeper.toml");
        crate::say!("  session-keeper status -c /etc/session-keeper/session-keeper.toml");
    }
}
