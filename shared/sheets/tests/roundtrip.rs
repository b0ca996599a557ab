//! Files read back: the XLSX through calamine holds every sheet, header and cell as written; the
//! CSV starts with the byte-order mark, keeps its Chinese headers, quotes what needs it and
//! defuses text a spreadsheet would run as a formula.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use sheets::{BOM, Cell, Export, ExportError, Format};

fn write(format: Format) -> Vec<u8> {
    let mut x = Export::new(format, Cursor::new(Vec::new())).expect("start");
    x.sheet("各地情况", &["地区", "收到举报", "受理"])
        .expect("sheet");
    x.row(&[Cell::Text("杭州市西湖区"), Cell::Int(12), Cell::Int(7)])
        .expect("row");
    x.row(&[Cell::Text("含,逗号\"引号"), Cell::Int(0), Cell::Int(-3)])
        .expect("row");
    x.sheet("逾期未办", &["线索编号"]).expect("sheet");
    x.row(&[Cell::Text("=HYPERLINK(\"x\")")]).expect("row");
    x.finish().expect("finish").into_inner()
}

#[test]
fn the_xlsx_reads_back_cell_for_cell() {
    let bytes = write(Format::Xlsx);
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("xlsx");
    assert_eq!(book.sheet_names(), ["各地情况", "逾期未办"]);
    let figures = book.worksheet_range("各地情况").expect("sheet");
    let rows: Vec<Vec<Data>> = figures.rows().map(<[Data]>::to_vec).collect();
    assert_eq!(
        rows,
        [
            vec![
                Data::String("地区".into()),
                Data::String("收到举报".into()),
                Data::String("受理".into())
            ],
            vec![
                Data::String("杭州市西湖区".into()),
                Data::Float(12.0),
                Data::Float(7.0)
            ],
            vec![
                Data::String("含,逗号\"引号".into()),
                Data::Float(0.0),
                Data::Float(-3.0)
            ],
        ]
    );
    let overdue = book.worksheet_range("逾期未办").expect("sheet");
    assert_eq!(
        overdue.get((1, 0)),
        Some(&Data::String("=HYPERLINK(\"x\")".into())),
        "a typed string cell, never a formula"
    );
}

#[test]
fn the_csv_has_the_bom_its_chinese_headers_and_sections() {
    let bytes = write(Format::Csv);
    assert!(bytes.starts_with(BOM), "UTF-8 byte-order mark first");
    let text = String::from_utf8(bytes[BOM.len()..].to_vec()).expect("utf-8");
    assert_eq!(
        text,
        "各地情况\n地区,收到举报,受理\n杭州市西湖区,12,7\n\"含,逗号\"\"引号\",0,-3\n\n逾期未办\n线索编号\n\"'=HYPERLINK(\"\"x\"\")\"\n"
    );
}

#[test]
fn a_row_before_any_sheet_is_refused() {
    for format in [Format::Xlsx, Format::Csv] {
        let mut x = Export::new(format, Cursor::new(Vec::new())).expect("start");
        assert!(matches!(x.row(&[Cell::Int(1)]), Err(ExportError::NoSheet)));
    }
}
