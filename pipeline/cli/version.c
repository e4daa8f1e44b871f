#include "pipeline/cli/version.h"

#include "git_describe.h"   /* MELD_GIT_DESCRIBE: "" without git */

const char *meld_version_string(void)
{
    return sizeof MELD_GIT_DESCRIBE > 1 ? "meld " MELD_VERSION " (git " MELD_GIT_DESCRIBE ")" : "meld " MELD_VERSION;
}
