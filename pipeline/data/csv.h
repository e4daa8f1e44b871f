/* An RFC 4180 CSV reader, made for MELD's annotation files but generic.
 *
 * Format accepted (RFC 4180 plus what real files carry):
 *   - fields separated by ',', records ended by CRLF, LF or a lone CR;
 *   - a field that starts with '"' is quoted: it may hold ',', CR, LF, and
 *     '""' stands for one '"'; after the closing quote only ',', a line end
 *     or the end of the file may follow (anything else is an error);
 *   - a '"' inside an unquoted field is kept literally (as Python's csv does);
 *   - blank lines are skipped; the last record may lack its line end;
 *   - a UTF-8 byte order mark (EF BB BF) at the start is dropped.
 *
 * Text is normalised to valid UTF-8 before parsing, in two steps:
 *   1. bytes that are not part of a valid UTF-8 sequence are read as
 *      cp1252 (Windows-1252) and converted, so a file saved by an old
 *      Windows tool still loads ("caf\xE9" -> "café");
 *   2. cp1252 mojibake is repaired: text that was UTF-8, was decoded as
 *      cp1252 (or Latin-1) by mistake and saved again as UTF-8. The
 *      apostrophe ’ is E2 80 99 in UTF-8; read as cp1252 those bytes are
 *      "â", "€", "™", so the file shows "â€™". Repair maps each character
 *      back to its cp1252 byte and, when the bytes form one valid UTF-8
 *      sequence (lead byte + the right number of 80..BF continuation
 *      bytes), puts that character back. Repeated while anything changes
 *      (at most 3 rounds), for text that was mangled twice.
 * NUL bytes are an error (fields are C strings).
 *
 *     CsvTable t;
 *     if (csv_read_file("train_sent_emo.csv", &t)) return MELD_ERR;
 *     int col = csv_find_column(&t, "Emotion");           // header = row 0
 *     for (size_t r = 1; r < t.n_rows; r++)
 *         printf("%ld %s\n", t.row_line[r], csv_field(&t, r, (size_t)col));
 *     csv_free(&t);
 */
#ifndef MELD_PIPELINE_CSV_H
#define MELD_PIPELINE_CSV_H

#include <stddef.h>

/* Files larger than this are refused (MELD's biggest CSV is about 1 MB). */
#define CSV_MAX_BYTES ((size_t)256 << 20)

typedef struct {
    char *buf;            /* every field's text, each NUL-terminated */
    char **fields;        /* all fields, row after row: pointers into buf */
    size_t *row_start;    /* row r is fields[row_start[r] .. row_start[r+1]) */
    long *row_line;       /* 1-based line on which row r starts */
    size_t n_rows;        /* rows including the header row 0 */
    size_t mojibake_repairs; /* mojibake sequences repaired (step 2) */
    size_t cp1252_bytes;     /* non-UTF-8 bytes converted from cp1252 (step 1) */
    unsigned long long source_hash; /* XXH64 (pipeline/data/checksum.h) of the bytes parsed */
} CsvTable;

/* Parses len bytes (not necessarily NUL-terminated). name is used in error
 * messages ("name: line 7: quoted field never closed (opened on line 5)").
 * On success *out owns its memory (csv_free); on error *out is empty. */
int csv_parse(const char *data, size_t len, const char *name, CsvTable *out);
/* Reads and parses a whole file. Anything but a regular file (a FIFO, a
 * device, a folder) is refused before it is read, so nothing blocks. */
int csv_read_file(const char *path, CsvTable *out);
void csv_free(CsvTable *t);

/* Number of fields in row r (r < n_rows). */
size_t csv_row_fields(const CsvTable *t, size_t r);
/* Field c of row r, or NULL when the row is shorter. */
const char *csv_field(const CsvTable *t, size_t r, size_t c);
/* Index of the header (row 0) field equal to name, ignoring ASCII case and
 * surrounding spaces; -1 when absent. */
int csv_find_column(const CsvTable *t, const char *name);

/* Repairs cp1252/Latin-1 mojibake in place in a NUL-terminated UTF-8 string
 * (one round, see above); the string can only get shorter. Returns the
 * number of sequences repaired. Invalid UTF-8 is left as it is. */
size_t csv_repair_mojibake(char *s);

#endif
