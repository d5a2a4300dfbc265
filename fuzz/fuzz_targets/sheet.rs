//! A clerk's spreadsheet from arbitrary bytes: read as CSV, as an XLSX file, or as the worksheet, shared strings and
//! styles of an XLSX file that is otherwise well formed (so that the fuzzer reaches the cells, not only the zip).
//! Reading fails with an error or gives rows whose cells are read as the client commands read them; never a panic.
#![no_main]

use std::{io::Write, path::Path};

use libfuzzer_sys::fuzz_target;
use lindung::{
    client::sheet::{self, Column, FULL_NAME, NIK, Sheet},
    nik::Nik,
};

const COLUMNS: &[Column] = &[
    NIK,
    FULL_NAME,
    Column { name: "birth date", aliases: &["tanggallahir", "birthdate"], required: false },
    Column { name: "phone", aliases: &["nohp", "phone"], required: false },
];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else { return };
    match mode % 3 {
        0 => read(Path::new("fuzz.csv"), bytes),
        1 => read(Path::new("fuzz.xlsx"), bytes),
        _ if overflows_calamine(bytes) => {}
        _ => read(Path::new("fuzz.xlsx"), &xlsx(bytes)),
    }
});

/// Whether the XML has a cell reference (`r="…"`, `ref="…"`) with more than 6 letters or 9 digits: calamine 0.38
/// adds them up without a check (`get_row_and_optional_column`), which panics where overflow checks are on, as in
/// this build, and wraps to a wrong position in a release build, where lindung then refuses a position beyond
/// Excel's limits or reads a cell there. Not lindung's to fix; such inputs are left out.
fn overflows_calamine(xml: &[u8]) -> bool {
    let attribute = |at: usize| {
        let name = xml[..at].iter().rev().take_while(|b| b.is_ascii_alphanumeric() || **b == b':').count();
        let name = &xml[at - name..at];
        let name = name.rsplit(|b| *b == b':').next().unwrap_or_default();
        name == b"r" || name == b"ref" || name == b"sqref"
    };
    (0..xml.len().saturating_sub(1))
        .filter(|&i| xml[i] == b'=' && matches!(xml[i + 1], b'"' | b'\'') && attribute(i))
        .any(|i| {
            let quote = xml[i + 1];
            let value = xml[i + 2..].split(|b| *b == quote).next().unwrap_or_default();
            value.split(|b| !b.is_ascii_alphanumeric()).any(|part| {
                let letters = part.iter().take_while(|b| b.is_ascii_alphabetic()).count();
                letters > 6 || part.len() - letters > 9
            })
        })
}

fn read(path: &Path, bytes: &[u8]) {
    let Ok(sheet) = Sheet::from_bytes(path, bytes, COLUMNS) else { return };
    assert!(sheet.has(0) && sheet.has(1), "the required columns were found");
    let mut last = 1;
    for row in &sheet.rows {
        assert!(row.number > last, "rows keep the file's order, after the header");
        last = row.number;
        let id = sheet.request_id("fuzz", row);
        assert!(id.ends_with(&format!("-row-{}", row.number)));
        for column in 0..COLUMNS.len() {
            let cell = sheet.cell(row, column);
            assert_eq!(cell, cell.trim());
        }
        let _ = Nik::parse(&sheet::nik(sheet.cell(row, 0)));
        let _ = lindung::date::parse(&sheet::date(sheet.cell(row, 2)));
    }
}

/// A stored (uncompressed) XLSX whose first sheet, shared strings and styles are `bytes`, split at NUL bytes (which
/// XML never holds); a missing part is left out.
fn xlsx(bytes: &[u8]) -> Vec<u8> {
    let mut parts = bytes.splitn(3, |b| *b == 0);
    let (sheet, strings, styles) = (parts.next().unwrap_or_default(), parts.next(), parts.next());
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut file = |name: &str, content: &[u8]| {
        zip.start_file(name, options).unwrap();
        zip.write_all(content).unwrap();
    };
    file("[Content_Types].xml", CONTENT_TYPES.as_bytes());
    file("_rels/.rels", RELS.as_bytes());
    file("xl/workbook.xml", WORKBOOK.as_bytes());
    file("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes());
    file("xl/worksheets/sheet1.xml", sheet);
    if let Some(strings) = strings {
        file("xl/sharedStrings.xml", strings);
    }
    if let Some(styles) = styles {
        file("xl/styles.xml", styles);
    }
    zip.finish().unwrap().into_inner()
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"#;

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;

const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;

const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;
