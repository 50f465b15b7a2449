//! Serving connections: HTTP/1.1 with a deadline for the request head (slow clients cannot hold
//! a connection open by trickling headers), a cap on open connections (at the cap the server
//! stops accepting, so it never runs out of file descriptors), an optional PROXY v1 line from a
//! C tor onion service (`HiddenServiceExportCircuitID haproxy`) whose circuit id feeds
//! per-circuit rate limits, and a graceful shutdown. The circuit id is never logged or stored:
//! it lives in the connection's requests only.

use std::net::Ipv6Addr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// The tor circuit a request arrived on (only with the PROXY protocol enabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Circuit(pub u32);

/// What the server listens on.
#[derive(Debug)]
pub enum Bound {
    Tcp(TcpListener),
    Unix(UnixListener),
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

impl Bound {
    async fn accept(&self) -> std::io::Result<Box<dyn Io>> {
        match self {
            Bound::Tcp(l) => l.accept().await.map(|(s, _)| Box::new(s) as Box<dyn Io>),
            Bound::Unix(l) => l.accept().await.map(|(s, _)| Box::new(s) as Box<dyn Io>),
        }
    }
}

/// Connection settings.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    pub header_timeout: Duration,
    pub proxy_protocol: bool,
    /// Connections open at once; more wait in the kernel's queue until one closes.
    pub max_connections: usize,
}

/// A PROXY line that is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadProxyLine;

/// Reads tor's `PROXY TCP6 fc00:dead:beef:4dad::XXXX:XXXX ::1 <port> <port>\r\n` line and returns
/// the circuit id (the low 32 bits of the source address). `None` for `PROXY UNKNOWN` or any
/// other well-formed source.
pub fn parse_proxy_line(line: &str) -> Result<Option<u32>, BadProxyLine> {
    let mut parts = line.trim_end_matches(['\r', '\n']).split(' ');
    if parts.next() != Some("PROXY") {
        return Err(BadProxyLine);
    }
    match parts.next() {
        Some("UNKNOWN") => Ok(None),
        Some("TCP6") => {
            let src: Ipv6Addr = parts
                .next()
                .and_then(|a| a.parse().ok())
                .ok_or(BadProxyLine)?;
            let seg = src.segments();
            if seg[..4] == [0xfc00, 0xdead, 0xbeef, 0x4dad] {
                Ok(Some((u32::from(seg[6]) << 16) | u32::from(seg[7])))
            } else {
                Ok(None)
            }
        }
        Some("TCP4") => Ok(None),
        _ => Err(BadProxyLine),
    }
}

async fn read_proxy_line(io: &mut Box<dyn Io>) -> Result<Option<u32>, BadProxyLine> {
    // The v1 header is at most 107 bytes; read byte by byte so nothing of the request is eaten.
    let mut line = Vec::with_capacity(108);
    loop {
        let b = io.read_u8().await.map_err(|_| BadProxyLine)?;
        line.push(b);
        if line.ends_with(b"\r\n") {
            break;
        }
        if line.len() >= 108 {
            return Err(BadProxyLine);
        }
    }
    parse_proxy_line(std::str::from_utf8(&line).map_err(|_| BadProxyLine)?)
}

/// Accepts connections until `shutdown` resolves, then lets open requests finish (up to 20 s).
pub async fn serve(
    bound: Bound,
    router: Router,
    opts: ServeOptions,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(opts.max_connections.max(1)));
    tokio::pin!(shutdown);
    loop {
        // At the cap, stop accepting: clients wait in the listen queue (not holding a file
        // descriptor of this process) until a connection closes.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let mut io = tokio::select! {
            accepted = bound.accept() => match accepted {
                Ok(io) => io,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _slot = slot;
            let circuit = if opts.proxy_protocol {
                match tokio::time::timeout(opts.header_timeout, read_proxy_line(&mut io)).await {
                    Ok(Ok(c)) => c,
                    // Without a valid PROXY line (tor always sends one first) the connection is dropped.
                    _ => return,
                }
            } else {
                None
            };
            let service =
                tower::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                    if let Some(c) = circuit {
                        req.extensions_mut().insert(Circuit(c));
                    }
                    router.clone().oneshot(req.map(axum::body::Body::new))
                });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(opts.header_timeout)
                .serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
            let _ = watcher.watch(conn).await;
        });
    }
    if tokio::time::timeout(Duration::from_secs(20), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open at shutdown");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_lines_never_panic(line in any::<String>()) {
            // Either a clear rejection or a well-formed header; never a panic.
            if parse_proxy_line(&line).is_ok() {
                prop_assert!(line.starts_with("PROXY "));
            }
        }

        #[test]
        fn arbitrary_bytes_before_a_request_are_refused_cleanly(
            bytes in prop::collection::vec(any::<u8>(), 0..200)
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let result = rt.block_on(async {
                let (mut client, server) = tokio::io::duplex(512);
                tokio::io::AsyncWriteExt::write_all(&mut client, &bytes).await.ok();
                drop(client);
                let mut io: Box<dyn Io> = Box::new(server);
                read_proxy_line(&mut io).await
            });
            if result.is_ok() {
                prop_assert!(bytes.starts_with(b"PROXY "));
                prop_assert!(bytes.len() <= 108);
            }
        }

        #[test]
        fn every_circuit_id_comes_back(id in any::<u32>(), port in any::<u16>()) {
            let addr = Ipv6Addr::new(0xfc00, 0xdead, 0xbeef, 0x4dad, 0, 0, (id >> 16) as u16, id as u16);
            let line = format!("PROXY TCP6 {addr} ::1 {port} 80\r\n");
            prop_assert_eq!(parse_proxy_line(&line), Ok(Some(id)));
        }
    }

    #[test]
    fn tor_proxy_lines() {
        assert_eq!(
            parse_proxy_line("PROXY TCP6 fc00:dead:beef:4dad::0:2a ::1 65535 80\r\n"),
            Ok(Some(42))
        );
        assert_eq!(
            parse_proxy_line("PROXY TCP6 fc00:dead:beef:4dad::1:0 ::1 65535 80\r\n"),
            Ok(Some(65536))
        );
        assert_eq!(parse_proxy_line("PROXY UNKNOWN\r\n"), Ok(None));
        assert_eq!(
            parse_proxy_line("PROXY TCP6 2001:db8::1 ::1 1 2\r\n"),
            Ok(None)
        );
        assert_eq!(parse_proxy_line("GET / HTTP/1.1\r\n"), Err(BadProxyLine));
        assert_eq!(
            parse_proxy_line("PROXY TCP6 nonsense ::1 1 2\r\n"),
            Err(BadProxyLine)
        );
    }
}
