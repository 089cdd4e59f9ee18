/* Targets of the _cleanup_*_ attributes. */
#include <stdlib.h>

#include "common.h"

void cleanup_freep(void *p)
{
	free(*(void **)p);
}

void cleanup_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

void cleanup_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

void cleanup_closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

void cleanup_jsonp(json_t **j)
{
	json_decref(*j);
}

void cleanup_strvp(char ***v)
{
	strv_free(*v);
}
