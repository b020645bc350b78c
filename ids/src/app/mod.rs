//! Application-layer parsers that fill the sticky buffers: HTTP/1.x, DNS and TLS.

pub mod detect;
pub mod dns;
pub mod http;
pub mod tls;
