/* The program's version. MELD_VERSION is the release number, changed here
 * only; a build from a git checkout adds `git describe` (the Makefile
 * writes it to BUILD/gen/git_describe.h), a build without git (a tarball)
 * shows MELD_VERSION alone. */
#ifndef MELD_CLI_VERSION_H
#define MELD_CLI_VERSION_H

#define MELD_VERSION "0.1.0"

/* "meld 0.1.0" or "meld 0.1.0 (git 8e0b7e3-dirty)" */
const char *meld_version_string(void);

#endif
