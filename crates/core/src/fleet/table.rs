//! A fleet given as a table: named columns of text, read a batch of rows at a time, as an
//! Arrow table or a data frame holds its devices (the Python package reads these).

use super::{Columns, Fleet, FleetError, Origin, Origins, Row, Seen};

/// One column of a table of devices: its cells as text, `None` for a missing value (as
/// Arrow's null). The bindings implement it for their columnar types; vectors and slices of
/// `Option<&str>` or `Option<String>` implement it for tables built in code.
pub trait TextColumn {
    /// How many cells it has.
    fn rows(&self) -> usize;
    /// The cell of row `i` (below [`TextColumn::rows`]); `None` when it has no value.
    fn cell(&self, i: usize) -> Option<&str>;
}

impl<S: AsRef<str>> TextColumn for &[Option<S>] {
    fn rows(&self) -> usize {
        self.len()
    }
    fn cell(&self, i: usize) -> Option<&str> {
        self.get(i)?.as_ref().map(AsRef::as_ref)
    }
}

impl<S: AsRef<str>> TextColumn for Vec<Option<S>> {
    fn rows(&self) -> usize {
        self.len()
    }
    fn cell(&self, i: usize) -> Option<&str> {
        self.get(i)?.as_ref().map(AsRef::as_ref)
    }
}

/// Reads a fleet from a table whose rows come in batches (an Arrow stream's record batches):
/// [`FleetTable::new`] with the column names, [`FleetTable::read`] each batch's columns in
/// that order, then [`FleetTable::finish`].
///
/// The columns are a CSV export's (`id`, `model`, `line`, `version`, optional `site` and
/// `label:NAME`, in any order; see the [module docs](super)) and every device is checked as
/// from CSV, except that a table's cells are taken as they are: a padded value is an error
/// (as in JSON), where a CSV cell is trimmed. A null cell is an empty one. Rows are named in
/// errors as `table row 3`, counted from 0 across batches.
///
/// ```
/// use fleetpath::fleet::{FleetTable, TextColumn};
///
/// let ids = vec![Some("d1"), Some("d2")];
/// let models = vec![Some("IPM-1"), Some("IPM-1")];
/// let lines = vec![Some("press-1"), Some("weld-1")];
/// let versions = vec![Some("v5.6.14"), Some("5.6.30")];
/// let sites: Vec<Option<&str>> = vec![Some("plant-a"), None];
/// let columns: [&dyn TextColumn; 5] = [&ids, &models, &lines, &versions, &sites];
/// let names = ["id", "model", "line", "version", "site"];
/// let fleet = FleetTable::new(&names, 2)?.read(&columns)?.finish()?;
/// assert_eq!((fleet.len(), fleet.get("d2").unwrap().site), (2, None));
///
/// // A second batch: its rows are numbered after the first's.
/// let (id, model, line, version) = (vec![Some(" d3")], vec![Some("IPM-1")], vec![Some("weld-1")], vec![Some("6.15.008")]);
/// let batch: [&dyn TextColumn; 5] = [&id, &model, &line, &version, &vec![None::<&str>]];
/// let error = FleetTable::new(&names, 4)?.read(&columns)?.read(&batch).unwrap_err();
/// assert_eq!(error.to_string(), "table row 2: id \" d3\" has leading or trailing whitespace");
/// # Ok::<(), fleetpath::FleetError>(())
/// ```
pub struct FleetTable {
    fleet: Fleet,
    seen: Seen,
    columns: Columns,
    names: Vec<String>,
    /// Rows read so far (the next batch's first row number).
    read: usize,
}

impl std::fmt::Debug for FleetTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetTable")
            .field("columns", &self.names)
            .field("rows_read", &self.read)
            .finish_non_exhaustive()
    }
}

impl FleetTable {
    /// A reader of a table with these columns; `rows`, how many rows the table says it has,
    /// reserves room (up to a million devices: a bigger fleet grows as it is read).
    ///
    /// # Errors
    /// [`FleetError::MissingColumn`], [`FleetError::UnknownColumn`] or
    /// [`FleetError::DuplicateColumn`].
    pub fn new(names: &[&str], rows: usize) -> Result<Self, FleetError> {
        let columns = Columns::from_header(names.iter().copied())?;
        let rows = rows.min(Fleet::RESERVE);
        Ok(Self {
            fleet: Fleet::with_capacity(rows, Origins::TableRows),
            seen: Seen::default(),
            columns,
            names: names.iter().map(|&name| name.to_owned()).collect(),
            read: 0,
        })
    }

    /// Reads a batch of rows: one column per name given to [`FleetTable::new`], in that order,
    /// each as long as the others.
    ///
    /// # Errors
    /// [`FleetError::Table`] when the batch has another number of columns or columns of
    /// different lengths; otherwise as [`Fleet::from_csv`] for the first row that fails (a
    /// repeated id found in an earlier row comes first).
    pub fn read(mut self, batch: &[&dyn TextColumn]) -> Result<Self, FleetError> {
        if batch.len() != self.names.len() {
            let message = format!("a batch of {} columns, where the table has {}", batch.len(), self.names.len());
            return Err(FleetError::Table { message });
        }
        let rows = batch.first().map_or(0, |column| column.rows());
        if let Some((name, column)) = self.names.iter().zip(batch).find(|(_, column)| column.rows() != rows) {
            let (first, n) = (&self.names[0], column.rows());
            let message = format!("column {name:?} has {n} rows where column {first:?} has {rows}");
            return Err(FleetError::Table { message });
        }
        for i in 0..rows {
            let at = Origin::TableRow(self.read + i);
            if let Err(e) = self.fleet.push(self.columns.device(Row::Table(batch, i), at), &mut self.seen) {
                return Err(self.fleet.duplicate().unwrap_or(e));
            }
        }
        self.read += rows;
        Ok(self)
    }

    /// The error for a column whose values are not text (`found`: their type, as the table
    /// names it), for a binding that reads typed columns.
    ///
    /// ```
    /// let e = fleetpath::fleet::FleetTable::not_text("line", "double");
    /// assert_eq!(e.to_string(), "invalid fleet table: column \"line\" holds double values, not text or whole numbers");
    /// ```
    pub fn not_text(column: &str, found: &str) -> FleetError {
        FleetError::Table { message: format!("column {column:?} holds {found} values, not text or whole numbers") }
    }

    /// The fleet of the rows read.
    ///
    /// # Errors
    /// [`FleetError::DuplicateDevice`] for the first row whose id an earlier row has.
    pub fn finish(self) -> Result<Fleet, FleetError> {
        self.fleet.finish(Ok(()))
    }
}

impl Fleet {
    /// Reads a fleet from a table given whole: [`FleetTable`] with one batch.
    ///
    /// ```
    /// use fleetpath::fleet::TextColumn;
    ///
    /// let columns: [&dyn TextColumn; 4] = [
    ///     &vec![Some("d1")], &vec![Some("IPM-1")], &vec![Some("press-1")], &vec![Some("5.6.14")],
    /// ];
    /// let fleet = fleetpath::Fleet::from_columns(&["id", "model", "line", "version"], &columns)?;
    /// assert_eq!(fleet.origin("d1").as_deref(), Some("table row 0"));
    /// # Ok::<(), fleetpath::FleetError>(())
    /// ```
    ///
    /// # Errors
    /// As [`FleetTable::new`], [`FleetTable::read`] and [`FleetTable::finish`].
    pub fn from_columns(names: &[&str], columns: &[&dyn TextColumn]) -> Result<Self, FleetError> {
        let rows = columns.first().map_or(0, |column| column.rows());
        FleetTable::new(names, rows)?.read(columns)?.finish()
    }
}
