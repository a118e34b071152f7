//! What a file is, decided from its first bytes (magic numbers), never from its name or the
//! type the uploader claims: a page named `photo.png` is text, and is served as text.

use image::ImageFormat;
use protocol::FileKind;

/// How many leading bytes the decision reads (an Office document is a ZIP whose first entries
/// say which one it is).
pub const SNIFF_BYTES: usize = 64 * 1024;

/// A file's type as the gateway serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identified {
    pub kind: FileKind,
    pub content_type: &'static str,
    /// A raster image the gateway decodes (re-encodes without metadata, thumbnails).
    pub raster: Option<ImageFormat>,
}

const TEXT: &str = "text/plain; charset=utf-8";

/// The type of a file that starts with `head` (its first [`SNIFF_BYTES`], or all of it),
/// or None for bytes of no kind the gateway knows.
pub fn identify(head: &[u8]) -> Option<Identified> {
    let identified = |kind, content_type, raster| Identified {
        kind,
        content_type,
        raster,
    };
    let Some(found) = infer::get(head) else {
        return is_text(head).then(|| identified(FileKind::Text, TEXT, None));
    };
    let mime = found.mime_type();
    let raster = match mime {
        "image/png" => Some(ImageFormat::Png),
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/gif" => Some(ImageFormat::Gif),
        "image/webp" => Some(ImageFormat::WebP),
        _ => None,
    };
    if raster.is_some() {
        return Some(identified(FileKind::Image, mime, raster));
    }
    use infer::MatcherType;
    let kind = match (mime, found.matcher_type()) {
        ("application/pdf", _) => FileKind::Pdf,
        (_, MatcherType::Doc) => FileKind::Office,
        // HTML, XML, shell scripts: text, whatever they would do in a browser.
        (_, MatcherType::Text) => return Some(identified(FileKind::Text, TEXT, None)),
        (_, MatcherType::Archive) => FileKind::Archive,
        (_, MatcherType::Audio | MatcherType::Video) => FileKind::Media,
        _ => return None,
    };
    Some(identified(kind, mime, None))
}

/// UTF-8 without NULs or control characters other than whitespace; a multi-byte character cut
/// at the end of `head` still counts.
fn is_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(text) => text,
        // Cut inside a character: the bytes before it must be text.
        Err(e) if e.error_len().is_none() => match std::str::from_utf8(&head[..e.valid_up_to()]) {
            Ok(text) => text,
            Err(_) => return false,
        },
        Err(_) => return false,
    };
    !valid.is_empty()
        && valid
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_named_like_an_image_is_text() {
        let page = b"<!DOCTYPE html><html><script>alert(1)</script></html>";
        let found = identify(page).unwrap();
        assert_eq!(found.kind, FileKind::Text);
        assert_eq!(found.content_type, TEXT);
        assert_eq!(found.raster, None);
    }

    #[test]
    fn images_and_documents_are_known_by_their_magic_numbers() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(identify(png).unwrap().raster, Some(ImageFormat::Png));
        assert_eq!(identify(b"%PDF-1.7\n").unwrap().kind, FileKind::Pdf);
        assert_eq!(
            identify(b"\xff\xd8\xff\xe0\0\x10JFIF").unwrap().kind,
            FileKind::Image
        );
    }

    #[test]
    fn binary_noise_is_nothing_and_text_cut_mid_character_is_text() {
        assert_eq!(identify(&[0, 1, 2, 3, 0xfe, 0xff]), None);
        assert_eq!(identify(b""), None);
        let cut = "naïve café ✓".as_bytes();
        assert_eq!(
            identify(&cut[..cut.len() - 1]).unwrap().kind,
            FileKind::Text
        );
    }
}
