//! A tiny ESMTP server on 127.0.0.1:0 for the email channel's tests: greets, offers AUTH
//! (never STARTTLS), takes AUTH PLAIN and LOGIN, MAIL, RCPT, DATA and QUIT, and records each
//! session as it goes (before replying), so a test reads what arrived as soon as the client
//! returns.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How the server behaves.
#[derive(Debug, Clone, Copy)]
pub(super) struct Script {
    /// The mechanisms offered after `AUTH` in the EHLO reply.
    pub auth: &'static str,
    /// The reply to every RCPT TO (`None`: 250).
    pub rcpt: Option<&'static str>,
    /// The reply after the mail's final `.` (`None`: 250).
    pub data: Option<&'static str>,
    /// Accept connections but never say a word.
    pub silent: bool,
}

impl Default for Script {
    fn default() -> Script {
        Script {
            auth: "PLAIN LOGIN",
            rcpt: None,
            data: None,
            silent: false,
        }
    }
}

/// What one connection carried.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Session {
    /// Every command line, in order (AUTH arguments left out).
    pub commands: Vec<String>,
    /// The decoded login: user and password.
    pub login: Option<(String, String)>,
    /// The MAIL FROM argument.
    pub mail_from: Option<String>,
    /// The RCPT TO arguments.
    pub rcpt_to: Vec<String>,
    /// The mail as sent after DATA, dot-stuffing undone, CRLF line ends.
    pub data: Option<String>,
}

/// The server; stops when dropped.
pub(super) struct FakeSmtp {
    /// Where it listens.
    pub addr: SocketAddr,
    sessions: Arc<Mutex<Vec<Session>>>,
    task: JoinHandle<()>,
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeSmtp {
    /// Starts serving `script`.
    pub(super) async fn start(script: Script) -> FakeSmtp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sessions = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::clone(&sessions);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let index = {
                    let mut all = shared.lock().unwrap();
                    all.push(Session::default());
                    all.len() - 1
                };
                let connection = Connection {
                    sessions: Arc::clone(&shared),
                    index,
                    script,
                };
                tokio::spawn(connection.serve(stream));
            }
        });
        FakeSmtp {
            addr,
            sessions,
            task,
        }
    }

    /// The sessions so far, in connection order.
    pub(super) fn sessions(&self) -> Vec<Session> {
        self.sessions.lock().unwrap().clone()
    }
}

struct Connection {
    sessions: Arc<Mutex<Vec<Session>>>,
    index: usize,
    script: Script,
}

fn decode(line: &str) -> String {
    String::from_utf8(STANDARD.decode(line.trim()).unwrap()).unwrap()
}

impl Connection {
    fn record(&self, change: impl FnOnce(&mut Session)) {
        change(&mut self.sessions.lock().unwrap()[self.index]);
    }

    async fn serve(self, stream: TcpStream) {
        if self.script.silent {
            // Holds the connection open without a word until the server is dropped.
            let _hold = stream;
            return std::future::pending::<()>().await;
        }
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        if !say(&mut write, "220 fake.smtp ESMTP ready\r\n").await {
            return;
        }
        loop {
            let Some(line) = next_line(&mut lines).await else {
                return;
            };
            let upper = line.to_ascii_uppercase();
            let verb = upper.split(' ').next().unwrap_or_default().to_owned();
            self.record(|s| {
                let shown = if verb == "AUTH" {
                    &upper[..upper.len().min(10)]
                } else {
                    &line
                };
                s.commands.push(shown.to_owned());
            });
            let reply = match verb.as_str() {
                "EHLO" => format!(
                    "250-fake.smtp\r\n250-AUTH {}\r\n250 8BITMIME\r\n",
                    self.script.auth
                ),
                "AUTH" => self.auth(&line, &mut lines, &mut write).await,
                "MAIL" => {
                    let from = line[line.find(':').map_or(0, |i| i + 1)..]
                        .trim()
                        .to_owned();
                    self.record(|s| s.mail_from = Some(from));
                    "250 2.1.0 ok\r\n".to_owned()
                }
                "RCPT" => {
                    let to = line[line.find(':').map_or(0, |i| i + 1)..]
                        .trim()
                        .to_owned();
                    match self.script.rcpt {
                        Some(reply) => format!("{reply}\r\n"),
                        None => {
                            self.record(|s| s.rcpt_to.push(to));
                            "250 2.1.5 ok\r\n".to_owned()
                        }
                    }
                }
                "DATA" => {
                    if !say(&mut write, "354 end with <CRLF>.<CRLF>\r\n").await {
                        return;
                    }
                    let Some(data) = read_data(&mut lines).await else {
                        return;
                    };
                    self.record(|s| s.data = Some(data));
                    match self.script.data {
                        Some(reply) => format!("{reply}\r\n"),
                        None => "250 2.0.0 queued\r\n".to_owned(),
                    }
                }
                "RSET" | "NOOP" => "250 2.0.0 ok\r\n".to_owned(),
                "QUIT" => {
                    let _ = say(&mut write, "221 2.0.0 bye\r\n").await;
                    return;
                }
                _ => "502 5.5.2 not implemented\r\n".to_owned(),
            };
            if !say(&mut write, &reply).await {
                return;
            }
        }
    }

    /// AUTH PLAIN (with or without an initial response) or LOGIN; records the login, 235.
    async fn auth<R: AsyncBufReadExt + Unpin>(
        &self,
        line: &str,
        lines: &mut R,
        write: &mut OwnedWriteHalf,
    ) -> String {
        let parts: Vec<&str> = line.split(' ').collect();
        let mechanism = parts
            .get(1)
            .map(|m| m.to_ascii_uppercase())
            .unwrap_or_default();
        let login = if mechanism == "PLAIN" {
            let initial = match parts.get(2) {
                Some(initial) => initial.to_string(),
                None => {
                    say(write, "334 \r\n").await;
                    next_line(lines).await.unwrap_or_default()
                }
            };
            let plain = decode(&initial);
            let fields: Vec<&str> = plain.split('\0').collect();
            (fields[1].to_owned(), fields[2].to_owned())
        } else {
            let user = match parts.get(2) {
                Some(user) => decode(user),
                None => {
                    say(write, "334 VXNlcm5hbWU6\r\n").await;
                    decode(&next_line(lines).await.unwrap_or_default())
                }
            };
            say(write, "334 UGFzc3dvcmQ6\r\n").await;
            (user, decode(&next_line(lines).await.unwrap_or_default()))
        };
        self.record(|s| s.login = Some(login));
        "235 2.7.0 authentication successful\r\n".to_owned()
    }
}

/// Writes `text`; false once the client has gone.
async fn say(write: &mut OwnedWriteHalf, text: &str) -> bool {
    write.write_all(text.as_bytes()).await.is_ok()
}

/// One command line without its CRLF; `None` at the end of the stream.
async fn next_line<R: AsyncBufReadExt + Unpin>(lines: &mut R) -> Option<String> {
    let mut line = String::new();
    match lines.read_line(&mut line).await {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_owned()),
    }
}

/// The mail up to the lone `.`, with dot-stuffing undone.
async fn read_data<R: AsyncBufReadExt + Unpin>(lines: &mut R) -> Option<String> {
    let mut data = String::new();
    loop {
        let line = next_line(lines).await?;
        if line == "." {
            return Some(data);
        }
        data.push_str(line.strip_prefix('.').unwrap_or(&line));
        data.push_str("\r\n");
    }
}
