//! The server applications of `synack serve`: `echo` (everything back, then close after the
//! peer's FIN), `discard` (read and drop), and `http` (`GET /bytes/N` answered with N bytes of
//! deterministic content, enough for curl).

use std::io;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Echo,
    Discard,
    Http,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Mode, String> {
        match s {
            "echo" => Ok(Mode::Echo),
            "discard" => Ok(Mode::Discard),
            "http" => Ok(Mode::Http),
            other => Err(format!("unknown mode '{other}': echo, discard or http")),
        }
    }
}

/// The byte at position `i` of every `GET /bytes/N` body.
pub fn body_byte(i: usize) -> u8 {
    (i.wrapping_mul(31).wrapping_add(i >> 8) % 251) as u8
}

/// When the request head is complete: Some(Some(N)) for `GET /bytes/N`, Some(None) for any
/// other request, None while more is needed.
fn http_request_complete(req: &[u8]) -> Option<Option<usize>> {
    let end = req.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&req[..end]).ok();
    let n = head
        .and_then(|h| h.lines().next())
        .and_then(|line| line.strip_prefix("GET /bytes/"))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&n| n <= 1 << 30);
    Some(n)
}

/// Serves one accepted connection with `mode` on the tokio `Stack` (what `synack serve` runs).
pub async fn handle(stream: synack_runtime::TcpStream, mode: Mode) -> io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = stream.set_nodelay(true);
    let (mut r, mut w) = stream.into_split();
    match mode {
        Mode::Echo => {
            tokio::io::copy(&mut r, &mut w).await?;
            w.shutdown().await
        }
        Mode::Discard => {
            let mut buf = vec![0u8; 65536];
            while r.read(&mut buf).await? > 0 {}
            w.shutdown().await
        }
        Mode::Http => {
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            let len = loop {
                let n = r.read(&mut buf).await?;
                if n == 0 {
                    return Ok(());
                }
                request.extend_from_slice(&buf[..n]);
                if let Some(len) = http_request_complete(&request) {
                    break len;
                }
                if request.len() > 64 * 1024 {
                    return Ok(()); // no header that long is a request we serve
                }
            };
            match len {
                Some(len) => {
                    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n");
                    w.write_all(head.as_bytes()).await?;
                    let mut sent = 0;
                    let mut chunk = vec![0u8; 64 * 1024];
                    while sent < len {
                        let n = (len - sent).min(chunk.len());
                        for (k, b) in chunk[..n].iter_mut().enumerate() {
                            *b = body_byte(sent + k);
                        }
                        w.write_all(&chunk[..n]).await?;
                        sent += n;
                    }
                }
                None => {
                    w.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await?;
                }
            }
            w.shutdown().await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_requests_are_recognised_when_their_head_is_complete() {
        assert_eq!(http_request_complete(b"GET /bytes/10 HTTP/1.1\r\nHost: x\r\n"), None);
        assert_eq!(http_request_complete(b"GET /bytes/10 HTTP/1.1\r\nHost: x\r\n\r\n"), Some(Some(10)));
        assert_eq!(http_request_complete(b"GET /other HTTP/1.1\r\n\r\n"), Some(None));
        assert_eq!(http_request_complete(b"GET /bytes/99999999999 HTTP/1.1\r\n\r\n"), Some(None));
    }
}
