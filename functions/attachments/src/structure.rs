//! The container structure of accepted evidence, beyond its first bytes: images whose headers decode, MP4 boxes that walk to the end, PDFs without active content.
//!
//! Magic bytes alone let anything through that starts right (an HTML page after `ftyp`, a PDF
//! that runs JavaScript when an officer opens it). Each accepted type is checked whole:
//!
//! | type | checked |
//! |---|---|
//! | JPEG | the marker segments from SOI to SOS walk within the file with valid lengths, one frame header (SOF) with non-zero size and 1–4 components, an EOI after the scan |
//! | PNG | every chunk walks within the file with its CRC-32, IHDR first (non-zero size, a valid bit depth for its colour type), at least one IDAT, IEND last |
//! | WebP | the RIFF size is the file's, every chunk walks within it, the first is `VP8 ` (key frame start code, non-zero size), `VP8L` (signature) or `VP8X` |
//! | MP4 | top-level boxes walk exactly to the end of the file (streamed, [`BoxWalk`]), `ftyp` first, a `moov` box |
//! | PDF | header, `%%EOF` at the end, and none of the names that carry active or embedded content (JavaScript, launch and submit actions, embedded files, rich media, XFA), also inside compressed object streams and with `#xx` escapes |
//!
//! Hand-written on purpose: the image and video crates decode pixels or need the whole file
//! seekable in memory, and the function's binary must stay under 8 MB; this reads headers only.

/// Largest object stream inflated while looking for active content.
const MAX_INFLATED: usize = 64 * 1024 * 1024;

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes(
        b.get(at..at + 2)?.try_into().ok()?,
    )))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// A whole JPEG.
///
/// # Errors
/// `bad_image` when the structure does not hold.
pub fn jpeg(b: &[u8]) -> Result<(), &'static str> {
    const BAD: &str = "bad_image";
    if !b.starts_with(&[0xFF, 0xD8]) {
        return Err(BAD);
    }
    let mut at = 2;
    let mut frame = false;
    loop {
        if b.get(at) != Some(&0xFF) {
            return Err(BAD);
        }
        while b.get(at) == Some(&0xFF) {
            at += 1;
        }
        let marker = *b.get(at).ok_or(BAD)?;
        at += 1;
        match marker {
            0xD8 | 0xD9 | 0x00 => return Err(BAD),
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let len = be16(b, at).ok_or(BAD)?;
        if len < 2 || at + len > b.len() {
            return Err(BAD);
        }
        let seg = &b[at + 2..at + len];
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            if frame || seg.len() < 6 {
                return Err(BAD);
            }
            let (height, width, comps) = (
                be16(seg, 1).ok_or(BAD)?,
                be16(seg, 3).ok_or(BAD)?,
                usize::from(seg[5]),
            );
            if width == 0 || height == 0 || !(1..=4).contains(&comps) || seg.len() != 6 + 3 * comps
            {
                return Err(BAD);
            }
            frame = true;
        }
        at += len;
        if marker == 0xDA {
            break;
        }
    }
    // The entropy-coded data (and any further scans) end with EOI (cameras may append
    // trailers after it).
    let end = b.windows(2).rposition(|w| w == [0xFF, 0xD9]).ok_or(BAD)?;
    if !frame || end < at {
        return Err(BAD);
    }
    Ok(())
}

/// A whole PNG.
///
/// # Errors
/// `bad_image` when the structure does not hold.
pub fn png(b: &[u8]) -> Result<(), &'static str> {
    const BAD: &str = "bad_image";
    if !b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err(BAD);
    }
    let mut at = 8;
    let mut first = true;
    let mut idat = false;
    loop {
        let len = usize::try_from(be32(b, at).ok_or(BAD)?).map_err(|_| BAD)?;
        let kind = b.get(at + 4..at + 8).ok_or(BAD)?;
        let data_end = at.checked_add(8 + len).ok_or(BAD)?;
        let crc = be32(b, data_end).ok_or(BAD)?;
        if crc32fast::hash(&b[at + 4..data_end]) != crc || !kind.iter().all(u8::is_ascii_alphabetic)
        {
            return Err(BAD);
        }
        let data = &b[at + 8..data_end];
        if first {
            if kind != b"IHDR" || len != 13 {
                return Err(BAD);
            }
            let (w, h) = (be32(data, 0).ok_or(BAD)?, be32(data, 4).ok_or(BAD)?);
            let (depth, colour) = (data[8], data[9]);
            let depth_ok = match colour {
                0 => matches!(depth, 1 | 2 | 4 | 8 | 16),
                3 => matches!(depth, 1 | 2 | 4 | 8),
                2 | 4 | 6 => matches!(depth, 8 | 16),
                _ => false,
            };
            let methods_ok = data[10] == 0 && data[11] == 0 && data[12] <= 1;
            if w == 0 || h == 0 || w > 1 << 31 || h > 1 << 31 || !depth_ok || !methods_ok {
                return Err(BAD);
            }
            first = false;
        } else if kind == b"IHDR" {
            return Err(BAD);
        }
        idat |= kind == b"IDAT";
        at = data_end + 4;
        if kind == b"IEND" {
            return if idat && at == b.len() {
                Ok(())
            } else {
                Err(BAD)
            };
        }
    }
}

/// A whole WebP.
///
/// # Errors
/// `bad_image` when the structure does not hold.
pub fn webp(b: &[u8]) -> Result<(), &'static str> {
    const BAD: &str = "bad_image";
    if b.get(..4) != Some(b"RIFF") || b.get(8..12) != Some(b"WEBP") {
        return Err(BAD);
    }
    let riff = usize::try_from(le32(b, 4).ok_or(BAD)?).map_err(|_| BAD)?;
    if riff.checked_add(8) != Some(b.len()) {
        return Err(BAD);
    }
    let mut at = 12;
    let mut first = true;
    while at < b.len() {
        let fourcc = b.get(at..at + 4).ok_or(BAD)?;
        let len = usize::try_from(le32(b, at + 4).ok_or(BAD)?).map_err(|_| BAD)?;
        let end = (at + 8).checked_add(len).ok_or(BAD)?;
        let data = b.get(at + 8..end).ok_or(BAD)?;
        if first {
            let ok = match fourcc {
                b"VP8 " => {
                    data.len() >= 10
                        && data[0] & 1 == 0
                        && data[3..6] == [0x9D, 0x01, 0x2A]
                        && u16::from_le_bytes([data[6], data[7]]) & 0x3FFF != 0
                        && u16::from_le_bytes([data[8], data[9]]) & 0x3FFF != 0
                }
                b"VP8L" => data.len() >= 5 && data[0] == 0x2F,
                b"VP8X" => data.len() >= 10,
                _ => false,
            };
            if !ok {
                return Err(BAD);
            }
            first = false;
        }
        at = end + (len & 1);
    }
    if first || at != b.len() {
        return Err(BAD);
    }
    Ok(())
}

/// The names whose presence makes a PDF active or a carrier of other files.
const ACTIVE: [&[u8]; 13] = [
    b"JavaScript",
    b"JS",
    b"Launch",
    b"EmbeddedFile",
    b"EmbeddedFiles",
    b"FileAttachment",
    b"RichMedia",
    b"XFA",
    b"SubmitForm",
    b"ImportData",
    b"GoToE",
    b"GoToR",
    b"AA",
];

/// The PDF names in `b`, `#xx` escapes decoded.
fn names(b: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    let delimiter = |c: u8| c.is_ascii_whitespace() || b"()<>[]{}/%".contains(&c);
    b.iter()
        .enumerate()
        .filter(|(_, c)| **c == b'/')
        .map(move |(i, _)| {
            let mut name = Vec::new();
            let mut j = i + 1;
            while let Some(&c) = b.get(j) {
                if delimiter(c) {
                    break;
                }
                let decoded = (c == b'#')
                    .then(|| b.get(j + 1..j + 3))
                    .flatten()
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match decoded {
                    Some(x) => {
                        name.push(x);
                        j += 3;
                    }
                    None => {
                        name.push(c);
                        j += 1;
                    }
                }
            }
            name
        })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn no_active_names(b: &[u8]) -> Result<(), &'static str> {
    if names(b).any(|n| ACTIVE.contains(&n.as_slice())) {
        return Err("pdf_active_content");
    }
    Ok(())
}

/// A PDF without active content.
///
/// # Errors
/// `bad_pdf` when the structure does not hold, `pdf_active_content` for JavaScript, actions,
/// embedded files and the like, `pdf_unreadable` for an object stream that does not inflate.
pub fn pdf(b: &[u8]) -> Result<(), &'static str> {
    if !b.starts_with(b"%PDF-") {
        return Err("bad_pdf");
    }
    let tail = &b[b.len().saturating_sub(1024)..];
    if find(tail, b"%%EOF", 0).is_none() {
        return Err("bad_pdf");
    }
    no_active_names(b)?;
    // Object streams hide dictionaries in compressed data: inflate each and look inside.
    let mut from = 0;
    while let Some(at) = names_at(b, b"ObjStm", from) {
        let start = find(b, b"stream", at).ok_or("bad_pdf")?;
        let mut data = start + b"stream".len();
        if b.get(data) == Some(&b'\r') {
            data += 1;
        }
        if b.get(data) == Some(&b'\n') {
            data += 1;
        }
        let end = find(b, b"endstream", data).ok_or("bad_pdf")?;
        let inflated =
            miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&b[data..end], MAX_INFLATED)
                .map_err(|_| "pdf_unreadable")?;
        no_active_names(&inflated)?;
        from = end;
    }
    Ok(())
}

/// The offset after the next name `/name` (escapes decoded) at or after `from`.
fn names_at(b: &[u8], name: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(slash) = find(b, b"/", at) {
        if names(&b[slash..]).next().is_some_and(|n| n == name) {
            return Some(slash + 1);
        }
        at = slash + 1;
    }
    None
}

/// Walks the top-level boxes of an MP4 as its bytes stream by, without holding them.
#[derive(Debug, Default)]
pub struct BoxWalk {
    /// Bytes seen so far.
    pos: u64,
    /// Where the next box header starts (`None`: the last box runs to the end).
    next: Option<u64>,
    header: Vec<u8>,
    boxes: u32,
    moov: bool,
    error: Option<&'static str>,
}

impl BoxWalk {
    /// A walk from the first byte.
    pub fn new() -> Self {
        Self {
            next: Some(0),
            ..Self::default()
        }
    }

    /// The next bytes of the file.
    pub fn feed(&mut self, chunk: &[u8]) {
        let mut i = 0usize;
        while i < chunk.len() && self.error.is_none() {
            let Some(next) = self.next else { break };
            let here = self.pos + i as u64;
            if here < next {
                let skip = usize::try_from((next - here).min((chunk.len() - i) as u64))
                    .unwrap_or(chunk.len() - i);
                i += skip;
                continue;
            }
            let need = if self.header.len() >= 8 && be32(&self.header, 0) == Some(1) {
                16
            } else {
                8
            };
            let take = (need - self.header.len()).min(chunk.len() - i);
            self.header.extend_from_slice(&chunk[i..i + take]);
            i += take;
            if self.header.len() == 8 && be32(&self.header, 0) == Some(1) {
                continue;
            }
            if self.header.len() == need {
                self.box_header(next);
            }
        }
        self.pos += chunk.len() as u64;
    }

    fn box_header(&mut self, start: u64) {
        let h = std::mem::take(&mut self.header);
        let kind = &h[4..8];
        if !kind.iter().all(|c| (0x20..0x7F).contains(c)) || (self.boxes == 0 && kind != b"ftyp") {
            self.error = Some("bad_video");
            return;
        }
        self.boxes += 1;
        self.moov |= kind == b"moov";
        let size = match be32(&h, 0) {
            Some(0) => {
                self.next = None;
                return;
            }
            Some(1) => h
                .get(8..16)
                .and_then(|s| s.try_into().ok())
                .map(u64::from_be_bytes)
                .filter(|s| *s >= 16),
            Some(s) if s >= 8 => Some(u64::from(s)),
            _ => None,
        };
        match size.and_then(|s| start.checked_add(s)) {
            Some(n) => self.next = Some(n),
            None => self.error = Some("bad_video"),
        }
    }

    /// The verdict once every byte was fed.
    ///
    /// # Errors
    /// `bad_video` unless the boxes end exactly at the end of the file, `ftyp` first, with a
    /// `moov` box.
    pub fn finish(self) -> Result<(), &'static str> {
        match self.error {
            Some(e) => Err(e),
            None if !self.header.is_empty() || !self.moov => Err("bad_video"),
            None if self.next.is_some_and(|n| n != self.pos) => Err("bad_video"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = u32::try_from(data.len())
            .expect("small")
            .to_be_bytes()
            .to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        let crc = crc32fast::hash(&c[4..]);
        c.extend_from_slice(&crc.to_be_bytes());
        c
    }

    fn png_file(ihdr: &[u8]) -> Vec<u8> {
        let mut f = b"\x89PNG\r\n\x1a\n".to_vec();
        f.extend(chunk(b"IHDR", ihdr));
        f.extend(chunk(b"IDAT", b"\x78\x9c\x63\x00\x00\x00\x01\x00\x01"));
        f.extend(chunk(b"IEND", b""));
        f
    }

    const IHDR: [u8; 13] = [0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0];

    #[test]
    fn png_chunks_walk_with_their_crcs() {
        assert_eq!(png(&png_file(&IHDR)), Ok(()));
        let mut bad_crc = png_file(&IHDR);
        bad_crc[30] ^= 1;
        assert_eq!(png(&bad_crc), Err("bad_image"));
        let mut trailing = png_file(&IHDR);
        trailing.extend_from_slice(b"<script>");
        assert_eq!(png(&trailing), Err("bad_image"));
        let mut zero_width = IHDR;
        zero_width[3] = 0;
        assert_eq!(png(&png_file(&zero_width)), Err("bad_image"));
        let mut bad_depth = IHDR;
        bad_depth[8] = 3;
        assert_eq!(png(&png_file(&bad_depth)), Err("bad_image"));
        assert_eq!(png(&png_file(&IHDR)[..40]), Err("bad_image"));
    }

    fn webp_file(fourcc: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut body = b"WEBP".to_vec();
        body.extend_from_slice(fourcc);
        body.extend_from_slice(&u32::try_from(data.len()).expect("small").to_le_bytes());
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
        let mut f = b"RIFF".to_vec();
        f.extend_from_slice(&u32::try_from(body.len()).expect("small").to_le_bytes());
        f.extend(body);
        f
    }

    #[test]
    fn webp_riff_sizes_and_first_chunk_hold() {
        let vp8 = [
            0x10, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x01, 0x00, 0x01, 0x00, 0x00,
        ];
        assert_eq!(webp(&webp_file(b"VP8 ", &vp8)), Ok(()));
        assert_eq!(webp(&webp_file(b"VP8L", &[0x2F, 0, 0, 0, 0])), Ok(()));
        assert_eq!(webp(&webp_file(b"HTML", b"<script>")), Err("bad_image"));
        let mut longer = webp_file(b"VP8 ", &vp8);
        longer.extend_from_slice(b"<html>");
        assert_eq!(webp(&longer), Err("bad_image"));
        let mut no_start = vp8;
        no_start[3] = 0;
        assert_eq!(webp(&webp_file(b"VP8 ", &no_start)), Err("bad_image"));
    }

    #[test]
    fn mp4_boxes_are_walked_across_any_chunking() {
        let bx = |kind: &[u8; 4], len: usize| {
            let mut b = u32::try_from(8 + len)
                .expect("small")
                .to_be_bytes()
                .to_vec();
            b.extend_from_slice(kind);
            b.extend(std::iter::repeat_n(0u8, len));
            b
        };
        let mut file = bx(b"ftyp", 12);
        file.extend(bx(b"moov", 40));
        // a 64-bit size box
        file.extend_from_slice(&1u32.to_be_bytes());
        file.extend_from_slice(b"mdat");
        file.extend_from_slice(&(16u64 + 5).to_be_bytes());
        file.extend_from_slice(&[1, 2, 3, 4, 5]);
        for size in [1, 3, 7, 1000] {
            let mut w = BoxWalk::new();
            file.chunks(size).for_each(|c| w.feed(c));
            assert_eq!(w.finish(), Ok(()), "chunks of {size}");
        }
        let walk = |bytes: &[u8]| {
            let mut w = BoxWalk::new();
            w.feed(bytes);
            w.finish()
        };
        assert_eq!(walk(&file[..file.len() - 1]), Err("bad_video"));
        assert_eq!(walk(&bx(b"moov", 4)), Err("bad_video"), "ftyp first");
        assert_eq!(walk(&bx(b"ftyp", 12)), Err("bad_video"), "no moov");
        let mut junk = bx(b"ftyp", 12);
        junk.extend_from_slice(b"\0\0\0\x10<scr");
        assert_eq!(walk(&junk), Err("bad_video"));
    }

    #[test]
    fn pdf_active_content_is_found_inside_object_streams() {
        let hidden = miniz_oxide::deflate::compress_to_vec_zlib(
            b"1 0 2 30 << /S /JavaScript /JS (app.alert(1)) >>",
            6,
        );
        let mut f =
            b"%PDF-1.7\n5 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode >>\nstream\n"
                .to_vec();
        f.extend_from_slice(&hidden);
        f.extend_from_slice(b"\nendstream\nendobj\n%%EOF\n");
        assert_eq!(pdf(&f), Err("pdf_active_content"));
        let clean = miniz_oxide::deflate::compress_to_vec_zlib(b"1 0 << /Type /Page >>", 6);
        let mut ok =
            b"%PDF-1.7\n5 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode >>\nstream\n"
                .to_vec();
        ok.extend_from_slice(&clean);
        ok.extend_from_slice(b"\nendstream\nendobj\n%%EOF\n");
        assert_eq!(pdf(&ok), Ok(()));
        let mut garbled =
            b"%PDF-1.7\n<< /Type /ObjStm >>\nstream\nnot zlib\nendstream\n%%EOF".to_vec();
        assert_eq!(pdf(&garbled), Err("pdf_unreadable"));
        garbled.truncate(20);
        assert_eq!(pdf(&garbled), Err("bad_pdf"));
        assert_eq!(
            pdf(b"%PDF-1.4\n/Type /Catalog /AA << >>\n%%EOF"),
            Err("pdf_active_content")
        );
    }
}
