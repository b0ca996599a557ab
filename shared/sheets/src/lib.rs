//! Spreadsheet exports written row by row: XLSX ([`rust_xlsxwriter`] in constant-memory mode)
//! and CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese headers as
//! UTF-8). Memory stays bounded by one row whatever the number of rows.
//!
//! - [`Export`]: sheets of a header row and data rows, into any seekable writer.
//! - [`bulletin`]: a 通报 bulletin as sheets.

pub mod bulletin;

use std::io::{Seek, Write};

use rust_xlsxwriter::{Workbook, XlsxError};

/// The UTF-8 byte-order mark CSV files start with.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("writing the XLSX file failed")]
    Xlsx(#[source] XlsxError),
    #[error("writing the CSV file failed")]
    Csv(#[source] csv::Error),
    #[error("writing the file failed")]
    Io(#[source] std::io::Error),
    #[error("a row was written before any sheet")]
    NoSheet,
}

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Csv,
}

impl Format {
    /// `xlsx` or `csv`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "xlsx" => Some(Self::Xlsx),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Xlsx => "xlsx",
            Self::Csv => "csv",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }

    /// The type of a file answered directly by a function: the Lambda HTTP adapter re-decodes
    /// any `text/*` body as text, which drops the CSV's byte-order mark (and with it the
    /// spreadsheet programs' cue that the Chinese headers are UTF-8), so a CSV goes out as
    /// bytes; the file name keeps its `.csv`.
    pub fn download_content_type(self) -> &'static str {
        match self {
            Self::Xlsx => self.content_type(),
            Self::Csv => "application/octet-stream",
        }
    }
}

/// One cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Text(&'a str),
    Int(i64),
    Number(f64),
}

enum Sink<W: Write + Seek + Send> {
    Xlsx {
        book: Box<Workbook>,
        out: W,
        sheet: Option<usize>,
        row: u32,
    },
    Csv {
        out: W,
        /// The current record, quoted by the csv crate, before it goes to `out`.
        line: Vec<u8>,
        sheets: usize,
    },
}

/// Appends one CSV record of `fields` to `line`.
fn csv_record<I, F>(line: &mut Vec<u8>, fields: I) -> Result<(), ExportError>
where
    I: IntoIterator<Item = F>,
    F: AsRef<[u8]>,
{
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .buffer_capacity(256)
        .from_writer(&mut *line);
    w.write_record(fields).map_err(ExportError::Csv)?;
    w.flush().map_err(ExportError::Io)
}

/// A file being written: [`Export::sheet`], then its [`Export::row`]s, more sheets, then
/// [`Export::finish`]. In CSV every sheet is a section: its name on a line, its header, its rows,
/// and an empty line before the next section.
pub struct Export<W: Write + Seek + Send> {
    sink: Sink<W>,
}

/// Text a spreadsheet program would take for a formula is written with a leading apostrophe
/// (CSV injection); XLSX cells are typed strings and need nothing.
fn csv_text(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

impl<W: Write + Seek + Send> Export<W> {
    /// Starts a file of `format` into `out`.
    ///
    /// # Errors
    /// [`ExportError::Io`] when the CSV byte-order mark cannot be written.
    pub fn new(format: Format, mut out: W) -> Result<Self, ExportError> {
        let sink = match format {
            Format::Xlsx => Sink::Xlsx {
                book: Box::new(Workbook::new()),
                out,
                sheet: None,
                row: 0,
            },
            Format::Csv => {
                out.write_all(BOM).map_err(ExportError::Io)?;
                Sink::Csv {
                    out,
                    line: Vec::with_capacity(256),
                    sheets: 0,
                }
            }
        };
        Ok(Self { sink })
    }

    /// Starts a sheet named `name` (at most 31 characters in XLSX) with its header row.
    ///
    /// # Errors
    /// Write failures, an invalid sheet name.
    pub fn sheet(&mut self, name: &str, headers: &[&str]) -> Result<(), ExportError> {
        match &mut self.sink {
            Sink::Xlsx {
                book, sheet, row, ..
            } => {
                let ws = book.add_worksheet_with_constant_memory();
                ws.set_name(name).map_err(ExportError::Xlsx)?;
                ws.write_row(0, 0, headers.iter().copied())
                    .map_err(ExportError::Xlsx)?;
                *sheet = Some(sheet.map_or(0, |i| i + 1));
                *row = 1;
            }
            Sink::Csv { out, line, sheets } => {
                line.clear();
                if *sheets > 0 {
                    line.push(b'\n');
                }
                csv_record(line, [name])?;
                csv_record(line, headers)?;
                out.write_all(line).map_err(ExportError::Io)?;
                *sheets += 1;
            }
        }
        Ok(())
    }

    /// Writes one row of the current sheet.
    ///
    /// # Errors
    /// [`ExportError::NoSheet`]; write failures.
    pub fn row(&mut self, cells: &[Cell<'_>]) -> Result<(), ExportError> {
        match &mut self.sink {
            Sink::Xlsx {
                book, sheet, row, ..
            } => {
                let index = sheet.ok_or(ExportError::NoSheet)?;
                let ws = book
                    .worksheet_from_index(index)
                    .map_err(ExportError::Xlsx)?;
                for (col, cell) in (0u16..).zip(cells) {
                    match cell {
                        Cell::Text(t) => ws.write_string(*row, col, *t),
                        // Counts stay far below 2^53: exact as f64.
                        #[allow(clippy::cast_precision_loss)]
                        Cell::Int(n) => ws.write_number(*row, col, *n as f64),
                        Cell::Number(x) => ws.write_number(*row, col, *x),
                    }
                    .map_err(ExportError::Xlsx)?;
                }
                *row += 1;
            }
            Sink::Csv { out, line, sheets } => {
                if *sheets == 0 {
                    return Err(ExportError::NoSheet);
                }
                let fields: Vec<std::borrow::Cow<'_, str>> = cells
                    .iter()
                    .map(|c| match c {
                        Cell::Text(t) => csv_text(t),
                        Cell::Int(n) => n.to_string().into(),
                        Cell::Number(x) => x.to_string().into(),
                    })
                    .collect();
                line.clear();
                csv_record(line, fields.iter().map(|f| f.as_bytes()))?;
                out.write_all(line).map_err(ExportError::Io)?;
            }
        }
        Ok(())
    }

    /// Completes the file and gives the writer back.
    ///
    /// # Errors
    /// Write failures.
    pub fn finish(self) -> Result<W, ExportError> {
        match self.sink {
            Sink::Xlsx {
                mut book, mut out, ..
            } => {
                book.save_to_writer(&mut out).map_err(ExportError::Xlsx)?;
                Ok(out)
            }
            Sink::Csv { mut out, .. } => {
                out.flush().map_err(ExportError::Io)?;
                Ok(out)
            }
        }
    }
}
