//! A small SSH client for the integration tests: connects with russh, opens a PTY shell like
//! NetRaven's engine does, and reads until a prompt appears.
#![allow(dead_code)]

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use devsim::{DeviceSpec, Platform, Sim};
use russh::client::{self, Handle};
use russh::keys::{PublicKey, PublicKeyOrCertificate};
use russh::{Channel, ChannelMsg, Preferred};

pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Remembers the host key the server presented.
#[derive(Clone, Default)]
pub struct Recorder {
    pub key: Arc<Mutex<Option<PublicKey>>>,
}

impl client::Handler for Recorder {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        if let PublicKeyOrCertificate::PublicKey { key, .. } = key {
            *self.key.lock().unwrap() = Some(key.clone());
        }
        Ok(true)
    }
}

pub fn config() -> client::Config {
    client::Config {
        inactivity_timeout: Some(Duration::from_secs(30)),
        ..Default::default()
    }
}

/// The algorithms an old device speaks, and nothing else.
pub fn legacy_preferred() -> Preferred {
    Preferred {
        kex: Cow::Owned(vec![russh::kex::DH_G14_SHA1, russh::kex::DH_G1_SHA1]),
        key: Cow::Owned(vec![russh::keys::Algorithm::Rsa { hash: None }]),
        cipher: Cow::Owned(vec![
            russh::cipher::AES_128_CBC,
            russh::cipher::TRIPLE_DES_CBC,
        ]),
        mac: Cow::Owned(vec![russh::mac::HMAC_SHA1]),
        ..Preferred::default()
    }
}

pub async fn connect_with(
    addr: SocketAddr,
    config: client::Config,
) -> Result<(Handle<Recorder>, Recorder), russh::Error> {
    let recorder = Recorder::default();
    let handle = client::connect(Arc::new(config), addr, recorder.clone()).await?;
    Ok((handle, recorder))
}

pub async fn login(addr: SocketAddr, user: &str, password: &str) -> Handle<Recorder> {
    let (mut handle, _) = connect_with(addr, config()).await.expect("connect");
    let auth = handle
        .authenticate_password(user, password)
        .await
        .expect("auth request");
    assert!(auth.success(), "password login failed");
    handle
}

/// An interactive PTY shell.
pub struct Shell {
    pub handle: Handle<Recorder>,
    pub channel: Channel<client::Msg>,
    /// Everything received and not yet consumed.
    pub pending: String,
    pub closed: bool,
}

impl Shell {
    pub async fn open(handle: Handle<Recorder>) -> Shell {
        let channel = handle.channel_open_session().await.expect("session");
        channel
            .request_pty(true, "xterm", 511, 24, 0, 0, &[])
            .await
            .expect("pty");
        channel.request_shell(true).await.expect("shell");
        Shell {
            handle,
            channel,
            pending: String::new(),
            closed: false,
        }
    }

    pub async fn start(sim: &Sim, index: usize, user: &str, password: &str) -> Shell {
        Shell::open(login(sim.devices()[index].addr, user, password).await).await
    }

    pub async fn send(&mut self, text: &str) {
        self.channel
            .data_bytes(text.as_bytes().to_vec())
            .await
            .expect("send");
    }

    /// Receives one message; false once the channel or connection ended.
    async fn receive(&mut self) -> bool {
        match self.channel.wait().await {
            Some(ChannelMsg::Data { data }) => {
                self.pending.push_str(&String::from_utf8_lossy(&data));
                true
            }
            Some(ChannelMsg::Eof | ChannelMsg::Close) | None => {
                self.closed = true;
                false
            }
            Some(_) => true,
        }
    }

    /// Reads until the received text ends with `suffix` (a prompt: nothing follows it) and
    /// returns everything up to and including it.
    pub async fn until_end(&mut self, suffix: &str) -> String {
        let result = tokio::time::timeout(TIMEOUT, async {
            loop {
                if self.pending.ends_with(suffix) {
                    return Some(std::mem::take(&mut self.pending));
                }
                if !self.receive().await {
                    return None;
                }
            }
        })
        .await;
        match result {
            Ok(Some(text)) => text,
            Ok(None) => panic!(
                "closed while waiting for {suffix:?}; got {:?}",
                self.pending
            ),
            Err(_) => panic!("timed out waiting for {suffix:?}; got {:?}", self.pending),
        }
    }

    /// Reads until `needle` appears anywhere; returns everything up to the end of it.
    pub async fn until(&mut self, needle: &str) -> String {
        let result = tokio::time::timeout(TIMEOUT, async {
            loop {
                if let Some(pos) = self.pending.find(needle) {
                    let rest = self.pending.split_off(pos + needle.len());
                    return Some(std::mem::replace(&mut self.pending, rest));
                }
                if !self.receive().await {
                    return None;
                }
            }
        })
        .await;
        match result {
            Ok(Some(text)) => text,
            Ok(None) => panic!(
                "closed while waiting for {needle:?}; got {:?}",
                self.pending
            ),
            Err(_) => panic!("timed out waiting for {needle:?}; got {:?}", self.pending),
        }
    }

    /// Sends `line` and returns the output up to the next `prompt`, with the echo and the
    /// prompt removed.
    pub async fn cmd(&mut self, line: &str, prompt: &str) -> String {
        self.send(&format!("{line}\r\n")).await;
        let text = self.until_end(prompt).await;
        let text = text.strip_suffix(prompt).unwrap_or(&text).to_string();
        let echo = format!("{line}\r\n");
        assert!(text.starts_with(&echo), "no echo of {line:?} in {text:?}");
        text[echo.len()..].to_string()
    }

    /// Waits until the server closes the session; returns what arrived meanwhile.
    pub async fn until_closed(&mut self) -> String {
        let closed = tokio::time::timeout(TIMEOUT, async { while self.receive().await {} }).await;
        assert!(closed.is_ok(), "session not closed; got {:?}", self.pending);
        std::mem::take(&mut self.pending)
    }
}

pub async fn start(specs: Vec<DeviceSpec>) -> Sim {
    Sim::start(specs, "127.0.0.1".parse().unwrap(), 0)
        .await
        .expect("start")
}

pub fn spec(platform: Platform, hostname: &str) -> DeviceSpec {
    let mut spec = DeviceSpec::new(platform, hostname, "admin", "secret");
    spec.config_lines = 120;
    spec
}

/// Runs one command over an exec channel; returns output and exit status.
pub async fn exec(handle: &Handle<Recorder>, command: &str) -> (String, Option<u32>) {
    let mut channel = handle.channel_open_session().await.expect("session");
    channel.exec(true, command).await.expect("exec");
    let mut output = String::new();
    let mut status = None;
    let done = tokio::time::timeout(TIMEOUT, async {
        while let Some(msg) = channel.wait().await {
            match msg {
                ChannelMsg::Data { data } => output.push_str(&String::from_utf8_lossy(&data)),
                ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                ChannelMsg::Close => break,
                _ => {}
            }
        }
    })
    .await;
    assert!(done.is_ok(), "exec did not finish; got {output:?}");
    (output, status)
}
