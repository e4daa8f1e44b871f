/* What every HTML page meld-c writes (the EDA report, the evaluation
 * report) does with text that comes from outside: file and folder names,
 * CSV fields, speaker names. Such text is data, never markup: a folder
 * named <img src=x onerror=alert(1)> must show as that name. */
#ifndef MELD_HTML_H
#define MELD_HTML_H

#include <stdio.h>

/* Writes s as HTML text, safe in element content and in attribute values
 * quoted with " or ': & < > " ' become &amp; &lt; &gt; &quot; &#39;. */
void html_write_text(FILE *fp, const char *s);

#endif
