//! Network namespaces for tests and experiments that touch real interfaces: they create their
//! own namespace, put the TUN device and every address inside it, and delete it afterwards.

use std::io;
use std::process::Command;

/// A network namespace that is deleted when this value is dropped.
pub struct NetNs {
    name: String,
}

impl NetNs {
    /// `ip netns add NAME`, with the loopback interface up.
    pub fn create(name: &str) -> io::Result<NetNs> {
        run("ip", &["netns", "add", name])?;
        let ns = NetNs { name: name.to_string() };
        ns.exec_ok(&["ip", "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `f` on a new thread that has entered this namespace (setns(2)); what `f` creates
    /// there (a TUN device, sockets) stays in the namespace and is usable from any thread.
    pub fn enter<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> io::Result<T> {
        let path = format!("/run/netns/{}", self.name);
        let file = std::fs::File::open(&path)?;
        std::thread::spawn(move || {
            use std::os::fd::AsRawFd;
            // SAFETY: a valid namespace fd; setns affects only this thread.
            if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(f())
        })
        .join()
        .map_err(|_| io::Error::other("the thread in the namespace panicked"))?
    }

    /// `ip netns exec NAME cmd args...`; the command's output, or an error with its stderr.
    pub fn exec_ok(&self, cmd: &[&str]) -> io::Result<String> {
        let mut args = vec!["netns", "exec", self.name.as_str()];
        args.extend_from_slice(cmd);
        run("ip", &args)
    }

    /// `exec_ok` of a command line whose words are separated by single spaces (no quoting), as
    /// tests write `ip` and `nft` commands: `ns.exec_line("ip link set lo up")`.
    pub fn exec_line(&self, line: &str) -> io::Result<String> {
        self.exec_ok(&line.split(' ').collect::<Vec<_>>())
    }

    /// A `Command` that runs inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

fn run(program: &str, args: &[&str]) -> io::Result<String> {
    let out = Command::new(program).args(args).output()?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(io::Error::other(format!("{program} {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim())))
    }
}
