/* Placeholder entry point; replaced by the command dispatcher. */
#include "util/common.h"

int main(void)
{
	return 0;
}
