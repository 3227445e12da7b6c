//! A streaming ZIP writer for exports: stored (uncompressed) entries, written as they come, ZIP64 when needed.
//!
//! The YOLO export is a ZIP of one small text file per image. Each entry is complete when it is added (so its
//! CRC and size go in the local header and no data descriptor is needed), its bytes are handed out at once, and
//! the central directory is spooled to a temporary file, so memory stays flat at any number of images. Past
//! 65,535 entries or 4 GiB the ZIP64 end records are added, which every current unzip tool reads. Entries are
//! stored rather than deflated: label files are tiny, and the whole export is usually gzip-compressed in
//! transit anyway.

use std::io::{Read, Seek, SeekFrom, Write};

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const END: u32 = 0x0605_4b50;
const END64: u32 = 0x0606_4b50;
const LOCATOR64: u32 = 0x0706_4b50;
/// Bit 11: names are UTF-8.
const UTF8: u16 = 1 << 11;

/// Writes a ZIP archive entry by entry into an output buffer that the caller drains with [`ZipWriter::take`].
pub struct ZipWriter {
    out: Vec<u8>,
    /// Bytes handed out so far (the offset of `out[0]` in the archive).
    written: u64,
    central: std::io::BufWriter<std::fs::File>,
    central_len: u64,
    entries: u64,
    dos_time: u16,
    dos_date: u16,
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put64(v: &mut Vec<u8>, x: u64) {
    v.extend_from_slice(&x.to_le_bytes());
}

impl ZipWriter {
    /// A new archive whose entries carry the given UTC time (year, month, day, hour, minute, second).
    pub fn new(time: (u16, u16, u16, u16, u16, u16)) -> std::io::Result<ZipWriter> {
        let (y, mo, d, h, mi, s) = time;
        Ok(ZipWriter {
            out: Vec::new(),
            written: 0,
            central: std::io::BufWriter::new(tempfile_in_tmp()?),
            central_len: 0,
            entries: 0,
            dos_time: (h << 11) | (mi << 5) | (s / 2),
            dos_date: (y.saturating_sub(1980) << 9) | (mo << 5) | d,
        })
    }

    /// Adds a complete file.
    pub fn add(&mut self, name: &str, data: &[u8]) -> std::io::Result<()> {
        let offset = self.written + self.out.len() as u64;
        let crc = crc32fast::hash(data);
        let size = u32::try_from(data.len())
            .map_err(|_| std::io::Error::other("an export entry over 4 GiB"))?;
        let o = &mut self.out;
        put32(o, LOCAL);
        put16(o, 20);
        put16(o, UTF8);
        put16(o, 0); // stored
        put16(o, self.dos_time);
        put16(o, self.dos_date);
        put32(o, crc);
        put32(o, size);
        put32(o, size);
        put16(o, name.len() as u16);
        put16(o, 0);
        o.extend_from_slice(name.as_bytes());
        o.extend_from_slice(data);

        let zip64 = offset >= u32::MAX as u64;
        let mut c = Vec::with_capacity(46 + name.len() + 12);
        put32(&mut c, CENTRAL);
        put16(&mut c, 45 | (3 << 8)); // made by: ZIP64-capable, Unix
        put16(&mut c, if zip64 { 45 } else { 20 });
        put16(&mut c, UTF8);
        put16(&mut c, 0);
        put16(&mut c, self.dos_time);
        put16(&mut c, self.dos_date);
        put32(&mut c, crc);
        put32(&mut c, size);
        put32(&mut c, size);
        put16(&mut c, name.len() as u16);
        put16(&mut c, if zip64 { 12 } else { 0 });
        put16(&mut c, 0); // comment
        put16(&mut c, 0); // disk
        put16(&mut c, 0); // internal attributes
        put32(&mut c, 0o100_644 << 16); // external: a regular file, rw-r--r--
        put32(&mut c, if zip64 { u32::MAX } else { offset as u32 });
        c.extend_from_slice(name.as_bytes());
        if zip64 {
            put16(&mut c, 0x0001);
            put16(&mut c, 8);
            put64(&mut c, offset);
        }
        self.central.write_all(&c)?;
        self.central_len += c.len() as u64;
        self.entries += 1;
        Ok(())
    }

    /// The bytes produced since the last call.
    pub fn take(&mut self) -> Vec<u8> {
        self.written += self.out.len() as u64;
        std::mem::take(&mut self.out)
    }

    /// Ends the archive: the central directory and the end records. Answers the remaining bytes.
    pub fn finish(mut self) -> std::io::Result<Vec<u8>> {
        let cd_offset = self.written + self.out.len() as u64;
        let mut file = self.central.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        file.read_to_end(&mut self.out)?;
        let cd_size = self.central_len;
        let end64_offset = cd_offset + cd_size;
        let needs64 =
            self.entries >= 0xffff || cd_offset >= u32::MAX as u64 || cd_size >= u32::MAX as u64;
        let o = &mut self.out;
        if needs64 {
            put32(o, END64);
            put64(o, 44);
            put16(o, 45);
            put16(o, 45);
            put32(o, 0);
            put32(o, 0);
            put64(o, self.entries);
            put64(o, self.entries);
            put64(o, cd_size);
            put64(o, cd_offset);
            put32(o, LOCATOR64);
            put32(o, 0);
            put64(o, end64_offset);
            put32(o, 1);
        }
        put32(o, END);
        put16(o, 0);
        put16(o, 0);
        let n16 = if needs64 { 0xffff } else { self.entries as u16 };
        put16(o, n16);
        put16(o, n16);
        put32(o, if needs64 { u32::MAX } else { cd_size as u32 });
        put32(o, if needs64 { u32::MAX } else { cd_offset as u32 });
        put16(o, 0);
        Ok(std::mem::take(&mut self.out))
    }
}

fn tempfile_in_tmp() -> std::io::Result<std::fs::File> {
    tempfile::tempfile()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_archive_has_its_entries_and_end_records() {
        let mut z = ZipWriter::new((2026, 11, 23, 20, 5, 30)).unwrap();
        z.add("data.yaml", b"nc: 1\n").unwrap();
        let mut all = z.take();
        z.add("labels/a.txt", b"0 0.5 0.5 0.1 0.1\n").unwrap();
        all.extend(z.finish().unwrap());
        assert_eq!(&all[..4], &LOCAL.to_le_bytes());
        let end = all.len() - 22;
        assert_eq!(&all[end..end + 4], &END.to_le_bytes());
        assert_eq!(u16::from_le_bytes([all[end + 10], all[end + 11]]), 2);
        let cd_offset = u32::from_le_bytes(all[end + 16..end + 20].try_into().unwrap()) as usize;
        assert_eq!(&all[cd_offset..cd_offset + 4], &CENTRAL.to_le_bytes());
    }
}
