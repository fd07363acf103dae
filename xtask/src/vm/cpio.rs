//! A writer of the `newc` cpio format the Linux kernel unpacks as its initramfs.
//!
//! Written here rather than run through the `cpio` tool because it is forty lines and keeps the
//! archive's contents (owners, modes, times) fixed: the same inputs give the same bytes.

use std::io::{self, Write};

/// Appends entries to an in-memory archive; [`Archive::finish`] adds the trailer.
#[derive(Default)]
pub struct Archive {
    bytes: Vec<u8>,
    ino: u32,
}

const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;

impl Archive {
    fn entry(&mut self, name: &str, mode: u32, data: &[u8]) {
        self.ino += 1;
        let name = name.trim_start_matches('/');
        let namesize = name.len() + 1;
        let nlink = if mode & S_IFDIR != 0 { 2 } else { 1 };
        // The header is 13 eight-digit hex fields after the magic; sizes fit 32 bits here (the
        // initramfs is far below 4 GiB), so the truncation cannot happen.
        #[allow(clippy::cast_possible_truncation)]
        let fields = [self.ino, mode, 0, 0, nlink, 0, data.len() as u32, 0, 0, 0, 0, namesize as u32, 0];
        self.bytes.extend_from_slice(b"070701");
        for f in fields {
            self.bytes.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        self.bytes.extend_from_slice(name.as_bytes());
        self.bytes.push(0);
        self.pad();
        self.bytes.extend_from_slice(data);
        self.pad();
    }

    fn pad(&mut self) {
        while self.bytes.len() % 4 != 0 {
            self.bytes.push(0);
        }
    }

    /// A directory (parents must be added first).
    pub fn dir(&mut self, name: &str) {
        self.entry(name, S_IFDIR | 0o755, &[]);
    }

    /// A regular file with these permission bits.
    pub fn file(&mut self, name: &str, perm: u32, data: &[u8]) {
        self.entry(name, S_IFREG | perm, data);
    }

    /// A symbolic link `name` -> `target`.
    pub fn symlink(&mut self, name: &str, target: &str) {
        self.entry(name, S_IFLNK | 0o777, target.as_bytes());
    }

    /// The archive with its `TRAILER!!!` entry.
    pub fn finish(mut self, out: &mut impl Write) -> io::Result<()> {
        self.entry("TRAILER!!!", 0, &[]);
        out.write_all(&self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_newc_headers_padded_to_four_bytes() {
        let mut a = Archive::default();
        a.dir("bin");
        a.file("/init", 0o755, b"#!x\n");
        a.symlink("bin/sh", "busybox");
        let mut out = Vec::new();
        a.finish(&mut out).unwrap();
        assert_eq!(&out[..6], b"070701");
        assert_eq!(out.len() % 4, 0);
        // The second entry's header starts after the 110-byte header, "bin\0", and padding to 4.
        let second = 116;
        assert_eq!(&out[second..second + 6], b"070701");
        // Mode of /init: regular file, 0755.
        assert_eq!(&out[second + 14..second + 22], b"000081ED");
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("init\0") && !text.contains("/init") && text.contains("TRAILER!!!"));
    }
}
