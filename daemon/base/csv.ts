/**
 * Where a spreadsheet may see a cell start inside a cell: the cell's own start, and after any
 * separator one might split on (`,` `;` tab `|`) or a line end, past blanks and double quotes it
 * trims, when a formula trigger (OWASP: = + - @ tab CR) follows.
 */
const FORMULA_START = /(?<=^|[,;\t|\r\n])(?=[\s"]*[=+\-@\t\r])/g;

/**
 * One CSV cell, safe under OWASP's CSV injection rules whatever separator the spreadsheet that
 * opens it splits on: every place a formula could start gets a leading quote (which the spreadsheet
 * shows as text), and every cell is quoted with its double quotes doubled (RFC 4180). Names come
 * from whoever enrolled the person.
 */
export function csvCell(value: string | null): string {
  return `"${(value ?? '').replace(FORMULA_START, "'").replace(/"/g, '""')}"`;
}
