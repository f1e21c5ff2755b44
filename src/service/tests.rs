//! The service module's tests: environment parsing, message text, the summary line, and
//! datagrams actually arriving on a path and an abstract socket.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use super::*;

#[test]
fn notify_socket_is_a_path_or_an_abstract_name() {
    assert_eq!(
        parse_notify_socket("/run/systemd/notify").unwrap(),
        NotifyTarget::Path("/run/systemd/notify".into())
    );
    assert_eq!(
        parse_notify_socket("@sk/notify").unwrap(),
        NotifyTarget::Abstract(b"sk/notify".to_vec())
    );
    for bad in ["", "@", "relative/path", "vsock:2:1234"] {
        assert!(parse_notify_socket(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn watchdog_needs_a_positive_interval_meant_for_our_pid() {
    let ours = 4242;
    let wd = |usec, pid| watchdog_interval(usec, pid, ours);
    assert_eq!(wd(Some("30000000"), None), Some(Duration::from_secs(30)));
    assert_eq!(
        wd(Some("400000"), Some("4242")),
        Some(Duration::from_millis(400))
    );
    assert_eq!(
        wd(Some("400000"), Some("1")),
        None,
        "another process's watchdog"
    );
    assert_eq!(wd(Some("400000"), Some("x")), None);
    assert_eq!(wd(Some("0"), None), None);
    assert_eq!(wd(Some("soon"), None), None);
    assert_eq!(wd(None, Some("4242")), None);
}

#[test]
fn the_loop_ticks_at_half_the_watchdog_else_every_five_seconds() {
    assert_eq!(
        tick_period(Some(Duration::from_secs(30))),
        Duration::from_secs(15)
    );
    assert_eq!(
        tick_period(Some(Duration::from_micros(1))),
        Duration::from_millis(1)
    );
    assert_eq!(tick_period(None), DEFAULT_TICK);
}

#[test]
fn messages_render_as_newline_separated_assignments() {
    let ready = Message::Ready {
        status: Some("2 online\n1 x".into()),
    };
    assert_eq!(ready.render(), "READY=1\nSTATUS=2 online 1 x");
    assert_eq!(Message::Ready { status: None }.render(), "READY=1");
    let reloading = Message::Reloading {
        monotonic_usec: 123_456,
    };
    assert_eq!(reloading.render(), "RELOADING=1\nMONOTONIC_USEC=123456");
    assert_eq!(Message::Stopping.render(), "STOPPING=1");
    assert_eq!(Message::Watchdog { status: None }.render(), "WATCHDOG=1");
    let pinged = Message::Watchdog {
        status: Some("1 online".into()),
    };
    assert_eq!(pinged.render(), "WATCHDOG=1\nSTATUS=1 online");
    assert_eq!(
        Message::Status("3 online".into()).render(),
        "STATUS=3 online"
    );
}

#[test]
fn monotonic_clock_moves_forward() {
    let first = monotonic_usec();
    std::thread::sleep(Duration::from_millis(2));
    assert!(monotonic_usec() > first);
    assert!(first > 0);
}

#[test]
fn summary_counts_states_in_a_fixed_order() {
    let mut states = vec!["online"; 98];
    states.push("login_required");
    states.push("awaiting_confirm");
    assert_eq!(
        fleet_summary(states.iter().copied()),
        "98 online, 1 awaiting confirm, 1 needs login"
    );
    assert_eq!(
        fleet_summary(["unknown", "recycled", "suspect", "offline", "recovering"]),
        "1 suspect, 1 offline, 1 recovering, 1 recycled, 1 unknown"
    );
    assert_eq!(fleet_summary(["online", "bogus"]), "1 online, 1 other");
    assert_eq!(fleet_summary([]), "no devices");
}

fn recv(socket: &UnixDatagram) -> String {
    let mut buf = [0u8; 512];
    let n = socket.recv(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn datagrams_reach_a_socket_in_the_file_system() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let value = path.display().to_string();
    let service = Service::from_env(|name| match name {
        "NOTIFY_SOCKET" => Some(value.clone()),
        "WATCHDOG_USEC" => Some("2000000".into()),
        _ => None,
    });
    assert_eq!(service.watchdog(), Some(Duration::from_secs(2)));
    assert_eq!(service.tick_period(), Duration::from_secs(1));
    service.notify(&Message::Ready {
        status: Some("1 online".into()),
    });
    service.notify(&Message::Stopping);
    assert_eq!(recv(&socket), "READY=1\nSTATUS=1 online");
    assert_eq!(recv(&socket), "STOPPING=1");
}

#[test]
fn datagrams_reach_an_abstract_socket() {
    use std::os::linux::net::SocketAddrExt;
    let name = format!("session-keeper-test-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let socket = UnixDatagram::bind_addr(&addr).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let service = Service::from_env(|n| (n == "NOTIFY_SOCKET").then(|| format!("@{name}")));
    service.notify(&Message::Watchdog { status: None });
    assert_eq!(recv(&socket), "WATCHDOG=1");
}

#[test]
fn without_a_socket_nothing_is_sent_and_no_watchdog_applies() {
    let service = Service::from_env(|n| (n == "WATCHDOG_USEC").then(|| "400000".to_owned()));
    assert_eq!(service.watchdog(), None);
    assert_eq!(service.tick_period(), DEFAULT_TICK);
    service.notify(&Message::Stopping);
    let gone = Service::from_env(|n| (n == "NOTIFY_SOCKET").then(|| "/nonexistent/x".to_owned()));
    gone.notify(&Message::Stopping);
    gone.notify(&Message::Stopping);
    assert!(gone.inner.as_ref().unwrap().failed.load(Ordering::Acquire));
}
