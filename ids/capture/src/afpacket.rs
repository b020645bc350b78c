//! One AF_PACKET TPACKET_V3 receive ring on one interface.
//!
//! The kernel fills blocks of `block_size` bytes with frames and hands a block over when it is
//! full or `retire_ms` passed; the reader walks the block's frames in place and gives the block
//! back. With a fanout group, every socket in the group (one per worker) gets a share of the
//! interface's packets, all packets of a flow going to the same socket.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{Ordering, fence};

/// Ring geometry and fanout.
#[derive(Debug, Clone, Copy)]
pub struct RingConfig {
    /// Bytes per block (a multiple of the page size).
    pub block_size: u32,
    /// Blocks in the ring.
    pub block_count: u32,
    /// A block is handed over after this many milliseconds even if not full.
    pub retire_ms: u32,
    /// Fanout group id (per interface); `None`: no fanout.
    pub fanout_group: Option<u16>,
}

impl Default for RingConfig {
    fn default() -> Self {
        RingConfig {
            block_size: 1 << 20,
            block_count: 64,
            retire_ms: 10,
            fanout_group: None,
        }
    }
}

/// Packets seen and dropped by the kernel for this socket since the last call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RingStats {
    /// Packets the kernel passed to the ring (including dropped ones).
    pub packets: u64,
    /// Packets dropped because the ring was full.
    pub drops: u64,
}

/// Why a ring could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum RingError {
    /// Entering the namespace or starting a thread failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The interface does not exist.
    #[error("no interface {0}")]
    NoInterface(String),
    /// A system call failed.
    #[error("{call} on {interface}: {source}")]
    Sys {
        /// The call.
        call: &'static str,
        /// The interface.
        interface: String,
        /// The error.
        source: io::Error,
    },
}

/// An open receive ring.
pub struct Ring {
    fd: OwnedFd,
    map: NonNull<u8>,
    map_len: usize,
    block_size: usize,
    block_count: usize,
    next_block: usize,
    interface: String,
}

// SAFETY: the mapping is owned by this value and only touched through `&mut self`.
unsafe impl Send for Ring {}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ring")
            .field("interface", &self.interface)
            .field("blocks", &self.block_count)
            .finish_non_exhaustive()
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: `map`/`map_len` are the mapping made in `open`, unmapped once here.
        unsafe {
            libc::munmap(self.map.as_ptr().cast(), self.map_len);
        }
    }
}

fn sys(call: &'static str, interface: &str) -> RingError {
    RingError::Sys {
        call,
        interface: interface.to_string(),
        source: io::Error::last_os_error(),
    }
}

fn setsockopt<T>(fd: &OwnedFd, level: i32, name: i32, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live `T` of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            std::ptr::from_ref(value).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

const ETH_P_ALL: u16 = 0x0003;

impl Ring {
    /// Open a ring on `interface` (in the calling thread's network namespace).
    pub fn open(interface: &str, config: RingConfig) -> Result<Ring, RingError> {
        let name = CString::new(interface).map_err(|_| RingError::NoInterface(interface.into()))?;
        // SAFETY: a NUL-terminated name.
        let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
        if ifindex == 0 {
            return Err(RingError::NoInterface(interface.into()));
        }
        // SAFETY: plain socket creation; the fd is owned right away.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                i32::from(ETH_P_ALL.to_be()),
            )
        };
        if raw < 0 {
            return Err(sys("socket(AF_PACKET)", interface));
        }
        // SAFETY: `raw` is a new, valid descriptor owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // enum tpacket_versions { TPACKET_V1, TPACKET_V2, TPACKET_V3 }
        let version: libc::c_int = 2;
        setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_VERSION, &version).map_err(|source| {
            RingError::Sys {
                call: "PACKET_VERSION",
                interface: interface.into(),
                source,
            }
        })?;
        let frame_size: u32 = 2048;
        let req = libc::tpacket_req3 {
            tp_block_size: config.block_size,
            tp_block_nr: config.block_count,
            tp_frame_size: frame_size,
            tp_frame_nr: config.block_size / frame_size * config.block_count,
            tp_retire_blk_tov: config.retire_ms,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req).map_err(|source| {
            RingError::Sys {
                call: "PACKET_RX_RING",
                interface: interface.into(),
                source,
            }
        })?;
        let map_len = config.block_size as usize * config.block_count as usize;
        // SAFETY: maps the ring the kernel just allocated for this socket.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(sys("mmap", interface));
        }
        let map = NonNull::new(map.cast::<u8>()).ok_or_else(|| sys("mmap", interface))?;
        let ring = Ring {
            fd,
            map,
            map_len,
            block_size: config.block_size as usize,
            block_count: config.block_count as usize,
            next_block: 0,
            interface: interface.to_string(),
        };
        // SAFETY: zeroed sockaddr_ll, then the fields bind needs.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = ETH_P_ALL.to_be();
        addr.sll_ifindex = ifindex as i32;
        // SAFETY: `addr` is a valid sockaddr_ll of the size passed.
        let rc = unsafe {
            libc::bind(
                ring.fd.as_raw_fd(),
                std::ptr::from_ref(&addr).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(sys("bind", interface));
        }
        if let Some(group) = config.fanout_group {
            let arg: u32 = u32::from(group) | (libc::PACKET_FANOUT_HASH << 16);
            setsockopt(&ring.fd, libc::SOL_PACKET, libc::PACKET_FANOUT, &arg).map_err(
                |source| RingError::Sys {
                    call: "PACKET_FANOUT",
                    interface: interface.into(),
                    source,
                },
            )?;
        }
        Ok(ring)
    }

    /// The interface name.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The descriptor, for polling several rings at once.
    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// Hand every frame of the next ready block to `f` (time in seconds, frame bytes, whether
    /// its checksum needs no check: validated by the NIC, or not yet computed because it was
    /// sent from this host with offload) and give the block back. Returns the number of frames; 0 when no block is ready (nothing waits:
    /// poll [`Ring::raw_fd`] or call again).
    pub fn next_block(&mut self, mut f: impl FnMut(f64, &[u8], bool)) -> usize {
        let offset = self.next_block * self.block_size;
        // SAFETY: `offset` is inside the mapping; the block descriptor is at its start.
        let block = unsafe { self.map.as_ptr().add(offset) };
        // Blocks start on page boundaries (block_size is a multiple of the page size).
        #[allow(clippy::cast_ptr_alignment)]
        let desc = block.cast::<libc::tpacket_block_desc>();
        // SAFETY: reading the status word the kernel writes; volatile, then an acquire fence
        // before reading the frames it published.
        let status = unsafe { std::ptr::read_volatile(&raw const (*desc).hdr.bh1.block_status) };
        if status & libc::TP_STATUS_USER == 0 {
            return 0;
        }
        fence(Ordering::Acquire);
        // SAFETY: the block is ours until handed back; fields read as the kernel wrote them.
        let (count, first) = unsafe {
            let h = &(*desc).hdr.bh1;
            (h.num_pkts as usize, h.offset_to_first_pkt as usize)
        };
        let mut at = first;
        for _ in 0..count {
            // The kernel aligns TPACKET_V3 frame headers to 8 bytes (V3_ALIGNMENT); anything else is not
            // a header.
            if at % 8 != 0 || at + std::mem::size_of::<libc::tpacket3_hdr>() > self.block_size {
                break;
            }
            // SAFETY: `at` is an aligned frame header offset inside the block (checked above).
            #[allow(clippy::cast_ptr_alignment)]
            let hdr = unsafe { &*block.add(at).cast::<libc::tpacket3_hdr>() };
            let mac = hdr.tp_mac as usize;
            let len = hdr.tp_snaplen as usize;
            if at + mac + len <= self.block_size {
                // SAFETY: the frame lies inside the block (checked).
                let frame = unsafe { std::slice::from_raw_parts(block.add(at + mac), len) };
                let ts = f64::from(hdr.tp_sec) + f64::from(hdr.tp_nsec) * 1e-9;
                let trusted = hdr.tp_status
                    & (libc::TP_STATUS_CSUM_VALID | libc::TP_STATUS_CSUMNOTREADY)
                    != 0;
                f(ts, frame, trusted);
            }
            if hdr.tp_next_offset == 0 {
                break;
            }
            at += hdr.tp_next_offset as usize;
        }
        fence(Ordering::Release);
        // SAFETY: giving the block back to the kernel.
        unsafe {
            std::ptr::write_volatile(
                &raw mut (*desc).hdr.bh1.block_status,
                libc::TP_STATUS_KERNEL,
            );
        }
        self.next_block = (self.next_block + 1) % self.block_count;
        count
    }

    /// Wait up to `timeout_ms` for a block (poll on the socket).
    pub fn wait(&self, timeout_ms: i32) -> bool {
        let mut p = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN | libc::POLLERR,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&raw mut p, 1, timeout_ms) > 0 }
    }

    /// Packets and kernel drops since the previous call (the kernel resets them on read).
    pub fn stats(&self) -> RingStats {
        // SAFETY: zeroed plain struct filled by getsockopt.
        let mut s: libc::tpacket_stats_v3 = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
        // SAFETY: `s` and `len` are valid out-parameters of the size given.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&raw mut s).cast(),
                &raw mut len,
            )
        };
        if rc != 0 {
            return RingStats::default();
        }
        RingStats {
            packets: u64::from(s.tp_packets),
            drops: u64::from(s.tp_drops),
        }
    }
}
