//! Application-protocol detection on the first bytes of each direction, as Suricata's app-layer
//! detection does: a direction's bytes are kept until a parser can decide, so a first segment of
//! one to three bytes (`GE`, then `T /x HTTP/1.1…`) is recognised like an unsplit request.

use crate::rule::AppProto;

/// Bytes of one direction kept for detection before it gives up on that direction.
pub const DETECT_MAX: usize = 4096;

/// What the bytes seen so far say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// This protocol.
    Detected(AppProto),
    /// Could still become a known protocol: wait for more bytes.
    NeedMore,
    /// No known protocol starts like this.
    RuledOut,
}

/// Decide from the first bytes of one direction.
pub fn detect(data: &[u8], to_server: bool) -> Detection {
    let http = if to_server {
        super::http::looks_like_request(data)
    } else {
        super::http::looks_like_response(data)
    };
    if http {
        return Detection::Detected(AppProto::Http);
    }
    if super::tls::looks_like_tls(data) {
        return Detection::Detected(AppProto::Tls);
    }
    if data.len() < DETECT_MAX
        && (super::http::could_become(data, to_server) || super::tls::could_become_tls(data))
    {
        Detection::NeedMore
    } else {
        Detection::RuledOut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_first_segments_wait_and_then_decide() {
        assert_eq!(detect(b"G", true), Detection::NeedMore);
        assert_eq!(detect(b"GE", true), Detection::NeedMore);
        assert_eq!(detect(b"GET", true), Detection::NeedMore);
        assert_eq!(detect(b"GET ", true), Detection::Detected(AppProto::Http));
        assert_eq!(detect(b"HTT", false), Detection::NeedMore);
        assert_eq!(
            detect(b"HTTP/1.1 200", false),
            Detection::Detected(AppProto::Http)
        );
        assert_eq!(detect(&[0x16], true), Detection::NeedMore);
        assert_eq!(
            detect(&[0x16, 3, 1], true),
            Detection::Detected(AppProto::Tls)
        );
        assert_eq!(detect(b"GX", true), Detection::RuledOut);
        assert_eq!(detect(b"SSH-2.0", true), Detection::RuledOut);
        assert_eq!(detect(b"", true), Detection::NeedMore);
    }
}
