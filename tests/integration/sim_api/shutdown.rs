//! Shutdown of the simulator's server: it must finish whatever clients do, including clients
//! that stopped half-way through a request.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::support::start_sim;

/// Generous: the server gives stuck connections about 2 s; this only proves it finishes.
const FINISHES_WITHIN: Duration = Duration::from_secs(10);

#[tokio::test]
async fn shutdown_finishes_despite_clients_stuck_mid_request() {
    let sim = start_sim("").await;
    let mut partial_headers = TcpStream::connect(sim.addr).await.unwrap();
    partial_headers
        .write_all(b"POST /isOnline HTTP/1.1\r\nHost: x\r\nAuthor")
        .await
        .unwrap();
    let mut partial_body = TcpStream::connect(sim.addr).await.unwrap();
    partial_body
        .write_all(
            b"POST /isOnline HTTP/1.1\r\nHost: x\r\nAuthorization: sim-wkteam-auth\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"wId\":",
        )
        .await
        .unwrap();
    // Give the server a moment to read what was sent, so both connections are mid-request
    // (if it has not, they are idle and close at once: the test still holds, just weaker).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let finished = tokio::time::timeout(FINISHES_WITHIN, sim.shutdown()).await;
    assert!(
        finished.is_ok(),
        "the server did not finish within {FINISHES_WITHIN:?} of shutdown"
    );
    drop((partial_headers, partial_body));
}
