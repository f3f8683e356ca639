/* mpnet: the orchestrator (placeholder until the CLI lands). */
#include <stdio.h>
int main(void)
{
	fprintf(stderr, "mpnet: not built yet\n");
	return 2;
}
