//! IDX files (the MNIST format), optionally gzip-compressed: a source of real data for projected
//! binary classification.
//!
//! Layout: a big-endian magic number (`0x00000803` for 3-dimensional unsigned-byte data such as
//! images, `0x00000801` for 1-dimensional such as labels), one big-endian `u32` size per
//! dimension, then the bytes. Compression is detected from the gzip magic bytes, not the name.

use std::io::Read;
use std::path::Path;

use super::error::{DataProblem, TaskError};

/// Magic number of an IDX file of unsigned-byte images (3 dimensions: count, rows, columns).
pub const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned-byte labels (1 dimension: count).
pub const IDX_LABELS_MAGIC: u32 = 0x0000_0801;
/// The most bytes read from one (decompressed) IDX file: 1 GiB, far above MNIST's 47 MB, and a
/// guard against decompression bombs.
pub const MAX_IDX_BYTES: u64 = 1 << 30;

/// Images from an IDX file: `count` images of `rows × cols` grey levels each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxImages {
    /// Number of images.
    pub count: usize,
    /// Rows per image.
    pub rows: usize,
    /// Columns per image.
    pub cols: usize,
    /// The pixels, image by image, row-major within an image.
    pub pixels: Vec<u8>,
}

impl IdxImages {
    /// Pixels per image (`rows × cols`).
    pub fn pixels_per_image(&self) -> usize {
        self.rows * self.cols
    }
}

/// Reads an IDX images file (magic `0x00000803`), gzipped or not.
pub fn read_idx_images(path: &Path) -> Result<IdxImages, TaskError> {
    parse_idx_images(&read_maybe_gzip(path)?, path)
}

/// Reads an IDX labels file (magic `0x00000801`), gzipped or not.
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>, TaskError> {
    parse_idx_labels(&read_maybe_gzip(path)?, path)
}

/// Parses the bytes of an (uncompressed) IDX images file; `path` names the file in errors.
pub fn parse_idx_images(bytes: &[u8], path: &Path) -> Result<IdxImages, TaskError> {
    let dims = parse_header(bytes, IDX_IMAGES_MAGIC, 3, "images", path)?;
    Ok(IdxImages {
        count: dims[0],
        rows: dims[1],
        cols: dims[2],
        pixels: bytes[16..].to_vec(),
    })
}

/// Parses the bytes of an (uncompressed) IDX labels file; `path` names the file in errors.
pub fn parse_idx_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>, TaskError> {
    parse_header(bytes, IDX_LABELS_MAGIC, 1, "labels", path)?;
    Ok(bytes[8..].to_vec())
}

/// Checks the magic number and that the length matches the dimensions; returns the dimensions.
fn parse_header(
    bytes: &[u8],
    magic: u32,
    num_dims: usize,
    what: &'static str,
    path: &Path,
) -> Result<Vec<usize>, TaskError> {
    let fail = |problem| TaskError::Data {
        path: path.to_path_buf(),
        line: None,
        problem,
    };
    let header_len = 4 + 4 * num_dims;
    let word = |i: usize| {
        bytes
            .get(4 * i..4 * i + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let found = word(0).unwrap_or(0);
    if found != magic {
        return Err(fail(DataProblem::IdxMagic {
            what,
            found,
            expected: magic,
        }));
    }
    let dims: Vec<usize> = (1..=num_dims)
        .map(|i| word(i).unwrap_or(0) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .and_then(|body| body.checked_add(header_len))
        .unwrap_or(usize::MAX);
    if bytes.len() != expected {
        return Err(fail(DataProblem::IdxLength {
            found: bytes.len(),
            expected,
        }));
    }
    Ok(dims)
}

/// The file's bytes, gunzipped if they start with the gzip magic `1f 8b`.
fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>, TaskError> {
    let read_error = |error| TaskError::Read {
        path: path.to_path_buf(),
        error,
    };
    let data_error = |problem| TaskError::Data {
        path: path.to_path_buf(),
        line: None,
        problem,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut raw = Vec::new();
    file.take(MAX_IDX_BYTES + 1)
        .read_to_end(&mut raw)
        .map_err(read_error)?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(raw.as_slice())
            .take(MAX_IDX_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| data_error(DataProblem::Gzip(e.to_string())))?;
        out
    } else {
        raw
    };
    if bytes.len() as u64 > MAX_IDX_BYTES {
        return Err(data_error(DataProblem::TooLarge {
            limit: MAX_IDX_BYTES,
        }));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images_bytes(count: u32, rows: u32, cols: u32) -> Vec<u8> {
        let mut b = Vec::new();
        for w in [IDX_IMAGES_MAGIC, count, rows, cols] {
            b.extend_from_slice(&w.to_be_bytes());
        }
        b.extend((0..count * rows * cols).map(|i| i as u8));
        b
    }

    #[test]
    fn parses_images_and_labels() {
        let img = parse_idx_images(&images_bytes(2, 2, 3), Path::new("i")).unwrap();
        assert_eq!((img.count, img.rows, img.cols), (2, 2, 3));
        assert_eq!(img.pixels, (0..12).collect::<Vec<u8>>());
        let mut labels = IDX_LABELS_MAGIC.to_be_bytes().to_vec();
        labels.extend_from_slice(&3u32.to_be_bytes());
        labels.extend_from_slice(&[7, 1, 7]);
        assert_eq!(
            parse_idx_labels(&labels, Path::new("l")).unwrap(),
            vec![7, 1, 7]
        );
    }

    #[test]
    fn rejects_wrong_magic_and_wrong_length() {
        let labels_as_images = parse_idx_labels(&images_bytes(1, 1, 1), Path::new("x.idx"));
        assert_eq!(
            labels_as_images.unwrap_err().to_string(),
            "x.idx: not an IDX labels file: magic number 0x00000803, expected 0x00000801"
        );
        let mut short = images_bytes(2, 2, 2);
        short.pop();
        let e = parse_idx_images(&short, Path::new("x.idx")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.idx: 23 bytes, but its header describes 24"
        );
        assert!(parse_idx_images(&[], Path::new("x")).is_err());
        assert!(parse_idx_images(&IDX_IMAGES_MAGIC.to_be_bytes(), Path::new("x")).is_err());
        let mut huge = IDX_IMAGES_MAGIC.to_be_bytes().to_vec();
        for _ in 0..3 {
            huge.extend_from_slice(&u32::MAX.to_be_bytes());
        }
        assert!(parse_idx_images(&huge, Path::new("x")).is_err());
    }
}
