//! The systemd notify protocol (`sd_notify`): READY, STOPPING, STATUS and WATCHDOG, sent as
//! datagrams to `$NOTIFY_SOCKET`. Without that variable (not under systemd) every call is a
//! no-op.

use std::time::Duration;

/// Sends one notification (`READY=1`, `WATCHDOG=1`, ...). Errors are ignored: systemd being
/// unreachable must never stop the service.
pub fn notify(state: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::net::UnixDatagram;
        let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
            return;
        };
        let Ok(socket) = UnixDatagram::unbound() else {
            return;
        };
        let path = path.to_string_lossy().into_owned();
        if let Some(abstract_name) = path.strip_prefix('@') {
            #[cfg(target_os = "linux")]
            {
                use std::os::linux::net::SocketAddrExt;
                if let Ok(addr) =
                    std::os::unix::net::SocketAddr::from_abstract_name(abstract_name.as_bytes())
                {
                    let _ = socket.send_to_addr(state.as_bytes(), &addr);
                }
            }
            #[cfg(not(target_os = "linux"))]
            let _ = abstract_name;
        } else {
            let _ = socket.send_to(state.as_bytes(), &path);
        }
    }
    #[cfg(not(unix))]
    let _ = state;
}

/// The watchdog interval systemd expects pings at (`WatchdogSec=`), if it set one for us.
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Some(pid) = std::env::var("WATCHDOG_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
        && pid != std::process::id()
    {
        return None;
    }
    (usec > 0).then(|| Duration::from_micros(usec))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn notifications_reach_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let receiver = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        // SAFETY: this test is the only one touching NOTIFY_SOCKET.
        unsafe { std::env::set_var("NOTIFY_SOCKET", &path) };
        notify("READY=1");
        let mut buf = [0u8; 64];
        let n = receiver.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
        unsafe { std::env::remove_var("NOTIFY_SOCKET") };
    }
}
