//! HTTP/1.x: requests and responses parsed from each direction's in-order stream into
//! transactions (pipelining pairs the n-th response with the n-th request). Heads are kept raw and
//! read on demand; bodies (Content-Length, chunked, or until close) are kept up to a cap.
//! Limits: no decompression of gzip/deflate bodies; heads over [`MAX_HEAD`] end parsing of the
//! flow; HTTP/2 and CONNECT tunnels are not followed.

use std::collections::VecDeque;

/// Longest request or response head (line + headers) the parser accepts.
pub const MAX_HEAD: usize = 32 * 1024;
/// Body bytes kept per message for inspection (Suricata's default body limit is 100 KiB).
pub const BODY_LIMIT: usize = 100 * 1024;

/// One request/response exchange.
#[derive(Debug, Default)]
pub struct HttpTx {
    pub id: u64,
    pub req_head: Vec<u8>,
    pub req_body: Vec<u8>,
    pub resp_head: Vec<u8>,
    pub resp_body: Vec<u8>,
    pub request_done: bool,
    pub response_done: bool,
    pub request_inspected: bool,
    pub response_inspected: bool,
    /// A HEAD request: its response has no body.
    pub head_request: bool,
}

impl HttpTx {
    fn reset(&mut self, id: u64) {
        self.id = id;
        self.req_head.clear();
        self.req_body.clear();
        self.resp_head.clear();
        self.resp_body.clear();
        self.request_done = false;
        self.response_done = false;
        self.request_inspected = false;
        self.response_inspected = false;
        self.head_request = false;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Body {
    #[default]
    Head,
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkDataEnd,
    Trailer,
    UntilClose,
    Failed,
}

/// Parser state of one direction.
#[derive(Debug, Default)]
struct Direction {
    state: Body,
    /// Partial chunk-size or trailer line.
    line: Vec<u8>,
}

/// What the parser finished while consuming data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpEvent {
    RequestDone(u64),
    ResponseDone(u64),
}

/// HTTP state of one flow.
#[derive(Debug, Default)]
pub struct HttpState {
    pub txs: VecDeque<HttpTx>,
    spare: Vec<HttpTx>,
    next_id: u64,
    /// Index into `txs` of the transaction receiving request / response bytes.
    req_dir: Direction,
    resp_dir: Direction,
    /// Number of requests started, responses started (absolute ids).
    req_started: u64,
    resp_started: u64,
}

/// The first bytes of a client stream that make it HTTP.
/// Request methods recognised at the start of a stream, with their space.
const METHODS: &[&[u8]] = &[
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"PUT ",
    b"DELETE ",
    b"OPTIONS ",
    b"CONNECT ",
    b"TRACE ",
    b"PATCH ",
    b"PROPFIND ",
];

pub fn looks_like_request(data: &[u8]) -> bool {
    METHODS
        .iter()
        .any(|m| data.len() >= m.len() && &data[..m.len()] == *m)
}

pub fn looks_like_response(data: &[u8]) -> bool {
    data.starts_with(b"HTTP/1.")
}

/// Whether more bytes could still make `data` the start of a request (to the client: of a
/// response): it is a proper prefix of a method (of `HTTP/1.`).
pub fn could_become(data: &[u8], to_server: bool) -> bool {
    if to_server {
        METHODS
            .iter()
            .any(|m| data.len() < m.len() && m.starts_with(data))
    } else {
        data.len() < 7 && b"HTTP/1.".starts_with(data)
    }
}

fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(3);
    memchr::memmem::find(&buf[start..], b"\r\n\r\n").map(|p| start + p + 4)
}

/// Iterate header lines of a head: `(name, value)` with the value trimmed.
pub fn headers(head: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let body_start = memchr::memchr(b'\n', head).map_or(head.len(), |p| p + 1);
    head[body_start..]
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take_while(|l| !l.is_empty())
        .filter_map(|l| {
            let colon = memchr::memchr(b':', l)?;
            Some((trim(&l[..colon]), trim(&l[colon + 1..])))
        })
}

pub fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// The value of the first header called `name` (case-insensitive).
pub fn header<'a>(head: &'a [u8], name: &str) -> Option<&'a [u8]> {
    headers(head)
        .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| v)
}

/// The first line without its line end.
pub fn first_line(head: &[u8]) -> &[u8] {
    let end = memchr::memchr(b'\n', head).unwrap_or(head.len());
    let l = &head[..end];
    l.strip_suffix(b"\r").unwrap_or(l)
}

/// The three space-separated parts of a request or status line (the last keeps its spaces).
pub fn line_parts(line: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let mut it = line.splitn(3, |&b| b == b' ');
    let a = it.next().unwrap_or(b"");
    let b = it.next().unwrap_or(b"");
    let c = it.next().unwrap_or(b"");
    (a, b, c)
}

fn parse_len(v: &[u8]) -> Option<u64> {
    std::str::from_utf8(v).ok()?.trim().parse().ok()
}

fn body_kind(head: &[u8], request: bool, head_request: bool) -> Body {
    if !request {
        let (_, code, _) = line_parts(first_line(head));
        if head_request || code.starts_with(b"1") || code == b"204" || code == b"304" {
            return Body::Head;
        }
    }
    if header(head, "Transfer-Encoding")
        .is_some_and(|v| v.windows(7).any(|w| w.eq_ignore_ascii_case(b"chunked")))
    {
        return Body::ChunkSize;
    }
    match header(head, "Content-Length").and_then(parse_len) {
        Some(0) => Body::Head,
        Some(n) => Body::Length(n),
        None if request => Body::Head,
        None => Body::UntilClose,
    }
}

impl HttpState {
    pub fn reset(&mut self) {
        while let Some(tx) = self.txs.pop_front() {
            self.spare.push(tx);
        }
        self.next_id = 0;
        self.req_dir = Direction::default();
        self.resp_dir = Direction::default();
        self.req_started = 0;
        self.resp_started = 0;
    }

    fn tx_mut(&mut self, id: u64) -> Option<&mut HttpTx> {
        let front = self.txs.front()?.id;
        self.txs.get_mut(id.checked_sub(front)? as usize)
    }

    pub fn tx(&self, id: u64) -> Option<&HttpTx> {
        let front = self.txs.front()?.id;
        self.txs.get(id.checked_sub(front)? as usize)
    }

    fn new_tx(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let mut tx = self.spare.pop().unwrap_or_default();
        tx.reset(id);
        self.txs.push_back(tx);
        id
    }

    /// Drop transactions that are complete and inspected on both sides (keeping their buffers).
    pub fn prune(&mut self) {
        while let Some(tx) = self.txs.front() {
            if tx.request_inspected && tx.response_inspected {
                if let Some(tx) = self.txs.pop_front() {
                    self.spare.push(tx);
                }
            } else {
                break;
            }
        }
        // Keep the pool bounded.
        self.spare.truncate(4);
    }

    /// Consume in-order stream bytes of one direction.
    pub fn feed(&mut self, to_server: bool, mut data: &[u8], events: &mut Vec<HttpEvent>) {
        while !data.is_empty() {
            let state = if to_server {
                self.req_dir.state
            } else {
                self.resp_dir.state
            };
            if state == Body::Failed {
                return;
            }
            let id = if to_server {
                self.req_started
            } else {
                self.resp_started
            };
            // The transaction receiving these bytes: requests create it, responses use the
            // request's (or create one for a response without a request).
            if state == Body::Head {
                while self.next_id <= id {
                    self.new_tx();
                }
            }
            let Some(tx) = self.tx_mut(id) else {
                self.dir(to_server).state = Body::Failed;
                return;
            };
            match state {
                Body::Head => {
                    let head = if to_server {
                        &mut tx.req_head
                    } else {
                        &mut tx.resp_head
                    };
                    if head.is_empty() {
                        // Skip blank lines between messages.
                        while let [b'\r' | b'\n', rest @ ..] = data {
                            data = rest;
                        }
                        if data.is_empty() {
                            return;
                        }
                        let ok = if to_server {
                            looks_like_request(data) || data.len() < 8
                        } else {
                            data.len() < 7 || looks_like_response(data)
                        };
                        if !ok {
                            self.dir(to_server).state = Body::Failed;
                            return;
                        }
                    }
                    let before = head.len();
                    let take = data.len().min(MAX_HEAD + 4 - before);
                    head.extend_from_slice(&data[..take]);
                    if let Some(end) = find_head_end(head, before) {
                        let consumed = end - before;
                        head.truncate(end);
                        data = &data[consumed..];
                        if to_server {
                            tx.head_request = head.starts_with(b"HEAD ");
                        }
                        let kind = body_kind(head, to_server, tx.head_request);
                        // An interim 1xx response is not the answer.
                        if !to_server && first_line(head).get(9) == Some(&b'1') {
                            head.clear();
                            continue;
                        }
                        self.dir(to_server).state = kind;
                        if kind == Body::Head {
                            self.finish(to_server, events);
                        }
                    } else {
                        if head.len() > MAX_HEAD {
                            self.dir(to_server).state = Body::Failed;
                        }
                        return;
                    }
                }
                Body::Length(n) => {
                    let take = (n.min(data.len() as u64)) as usize;
                    keep_body(tx, to_server, &data[..take]);
                    data = &data[take..];
                    let left = n - take as u64;
                    if left == 0 {
                        self.finish(to_server, events);
                    } else {
                        self.dir(to_server).state = Body::Length(left);
                    }
                }
                Body::UntilClose => {
                    keep_body(tx, to_server, data);
                    return;
                }
                Body::ChunkData(n) => {
                    let take = (n.min(data.len() as u64)) as usize;
                    keep_body(tx, to_server, &data[..take]);
                    data = &data[take..];
                    let left = n - take as u64;
                    self.dir(to_server).state = if left == 0 {
                        Body::ChunkDataEnd
                    } else {
                        Body::ChunkData(left)
                    };
                }
                Body::ChunkSize | Body::ChunkDataEnd | Body::Trailer => {
                    let dir = self.dir(to_server);
                    let nl = memchr::memchr(b'\n', data);
                    let take = nl.map_or(data.len(), |p| p + 1);
                    if dir.line.len() + take > 1024 {
                        dir.state = Body::Failed;
                        return;
                    }
                    dir.line.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    if nl.is_none() {
                        return;
                    }
                    let line = trim(
                        dir.line
                            .strip_suffix(b"\n")
                            .map_or(&dir.line, |l| l.strip_suffix(b"\r").unwrap_or(l)),
                    )
                    .to_vec();
                    dir.line.clear();
                    match state {
                        Body::ChunkDataEnd => dir.state = Body::ChunkSize,
                        Body::Trailer => {
                            if line.is_empty() {
                                self.finish(to_server, events);
                            }
                        }
                        _ => {
                            let hex_end = line
                                .iter()
                                .position(|b| !b.is_ascii_hexdigit())
                                .unwrap_or(line.len());
                            let size = std::str::from_utf8(&line[..hex_end])
                                .ok()
                                .and_then(|s| u64::from_str_radix(s, 16).ok());
                            dir.state = match size {
                                Some(0) => Body::Trailer,
                                Some(n) => Body::ChunkData(n),
                                None => Body::Failed,
                            };
                        }
                    }
                }
                Body::Failed => return,
            }
        }
    }

    fn dir(&mut self, to_server: bool) -> &mut Direction {
        if to_server {
            &mut self.req_dir
        } else {
            &mut self.resp_dir
        }
    }

    fn finish(&mut self, to_server: bool, events: &mut Vec<HttpEvent>) {
        let id = if to_server {
            self.req_started
        } else {
            self.resp_started
        };
        if let Some(tx) = self.tx_mut(id) {
            if to_server {
                tx.request_done = true;
            } else {
                tx.response_done = true;
            }
        }
        events.push(if to_server {
            HttpEvent::RequestDone(id)
        } else {
            HttpEvent::ResponseDone(id)
        });
        if to_server {
            self.req_started += 1;
        } else {
            self.resp_started += 1;
        }
        self.dir(to_server).state = Body::Head;
    }

    /// The flow ended: a body read until close is complete now.
    pub fn close(&mut self, events: &mut Vec<HttpEvent>) {
        if self.resp_dir.state == Body::UntilClose {
            self.finish(false, events);
        }
    }
}

fn keep_body(tx: &mut HttpTx, to_server: bool, data: &[u8]) {
    let body = if to_server {
        &mut tx.req_body
    } else {
        &mut tx.resp_body
    };
    let room = BODY_LIMIT.saturating_sub(body.len());
    body.extend_from_slice(&data[..data.len().min(room)]);
}

/// Suricata's normalised URI, as far as this engine goes: percent-decoding of the path and query
/// when the escape is valid; everything else kept as sent.
pub fn normalize_uri(raw: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == b'%'
            && i + 2 < raw.len()
            && raw[i + 1].is_ascii_hexdigit()
            && raw[i + 2].is_ascii_hexdigit()
        {
            let h = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            out.push(h(raw[i + 1]) << 4 | h(raw[i + 2]));
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipelined_requests_chunked_response_and_split_packets() {
        let mut s = HttpState::default();
        let mut ev = Vec::new();
        let req = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
        for chunk in req.chunks(5) {
            s.feed(true, chunk, &mut ev);
        }
        assert_eq!(
            ev,
            vec![HttpEvent::RequestDone(0), HttpEvent::RequestDone(1)]
        );
        assert_eq!(s.tx(1).unwrap().req_body, b"abc");
        ev.clear();
        let resp = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n2\r\nab\r\n0\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno";
        for chunk in resp.chunks(3) {
            s.feed(false, chunk, &mut ev);
        }
        assert_eq!(
            ev,
            vec![HttpEvent::ResponseDone(0), HttpEvent::ResponseDone(1)]
        );
        assert_eq!(s.tx(0).unwrap().resp_body, b"xyzab");
        assert_eq!(s.tx(1).unwrap().resp_body, b"no");
        let h = &s.tx(1).unwrap().resp_head;
        assert_eq!(line_parts(first_line(h)).1, b"404");
    }

    #[test]
    fn non_http_fails_quietly() {
        let mut s = HttpState::default();
        let mut ev = Vec::new();
        s.feed(true, b"\x16\x03\x01garbage\r\n\r\n", &mut ev);
        assert!(ev.is_empty());
    }
}
