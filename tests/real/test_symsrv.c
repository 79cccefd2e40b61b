// Symbol paths, stores and a symbol server on 127.0.0.1 (a child process of
// the test) serving a store assembled at test time from ../shared: downloads, CAB files,
// verification, the 404 marker, offline mode and hostile names.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bugcheck/bugcheck.h"
#include "bugcheck/pdb.h"
#include "bugcheck/sympath.h"
#include "test.h"

static char shared[4096];

static bool have_shared(void)
{
	return bc_test_find_shared(shared, sizeof(shared), "symbols/store");
}

#define NEED_SHARED()                                                            \
	do {                                                                     \
		if (!have_shared())                                              \
			SKIP("skipped: ../shared/symbols not found");            \
	} while (0)

static const char *AMDPPM_PDB_KEY = "1C19FDDB27BB3399D9B45973EFEAFCF31";  // the store's directory

static int run(const char *cmd)
{
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static struct bc_error *verify_pdb(void *arg, const char *path, const struct bc_symfile_key *key)
{
	(void)arg;
	struct bc_pdb_identity id;
	struct bc_error *err = bc_pdb_read_identity(path, &id);
	if (err)
		return err;
	if (memcmp(id.guid, key->guid, 16) || id.age != key->age)
		return bc_error_create(BC_ERR_NOT_FOUND, "GUID or age differ");
	return NULL;
}

static struct bc_symfile_key pdb_key(const char *name, const char *path)
{
	struct bc_symfile_key key = { .kind = BC_SYMFILE_PDB, .name = name };
	struct bc_pdb_identity id;
	struct bc_error *err = bc_pdb_read_identity(path, &id);
	if (!err) {
		memcpy(key.guid, id.guid, 16);
		key.age = id.age;
	}
	bc_error_destroy(err);
	return key;
}

TEST(parsing_and_keys)
{
	struct bc_sympath *sp;
	REQUIRE_OK(bc_sympath_parse(" /a ;;srv*;SRV*/c*https://h/x;cache*/k;srv*http://s;"
				    "symsrv*symsrv.dll*/d*https://e;srv*/local", "/def", &sp));
	REQUIRE_EQ(bc_sympath_entry_count(sp), 7);
	const struct bc_sympath_entry *e = bc_sympath_entry(sp, 0);
	CHECK_EQ(e->kind, BC_SYMPATH_DIR);
	CHECK_STR(e->directory, "/a");
	e = bc_sympath_entry(sp, 1);
	CHECK_EQ(e->kind, BC_SYMPATH_SERVER);
	CHECK_STR(e->directory, "/def");
	CHECK_STR(e->url, BC_MICROSOFT_SYMBOL_SERVER);
	e = bc_sympath_entry(sp, 2);
	CHECK_STR(e->directory, "/c");
	CHECK_STR(e->url, "https://h/x");
	e = bc_sympath_entry(sp, 3);  // cache*/k: searched, and caches what follows
	CHECK_EQ(e->kind, BC_SYMPATH_DIR);
	CHECK_STR(e->directory, "/k");
	e = bc_sympath_entry(sp, 4);
	CHECK_STR(e->directory, "/k");
	CHECK_STR(e->url, "http://s");
	e = bc_sympath_entry(sp, 5);
	CHECK_STR(e->directory, "/d");
	CHECK_STR(e->url, "https://e");
	e = bc_sympath_entry(sp, 6);  // srv*DIR: a local store
	CHECK_EQ(e->kind, BC_SYMPATH_DIR);
	CHECK_STR(e->directory, "/local");
	char *text = bc_sympath_render(sp);
	REQUIRE(text);
	CHECK_CONTAINS(text, "/a;SRV*/def*https://msdl.microsoft.com/download/symbols;SRV*/c*https://h/x");
	free(text);
	bc_sympath_free(sp);
	// Keys as symstore writes them: the real store's directory names.
	struct bc_symfile_key img = { .kind = BC_SYMFILE_IMAGE, .name = "amdppm.sys",
				      .timestamp = 0xc9c03000, .size_of_image = 0x3b000 };
	char dir[64];
	bc_symfile_key_dir(&img, dir, sizeof(dir));
	CHECK_STR(dir, "C9C030003b000");
	struct bc_symfile_key pdb = { .kind = BC_SYMFILE_PDB, .name = "x.pdb", .age = 0x1a };
	static const uint8_t g[16] = { 0xdb, 0xfd, 0x19, 0x1c, 0xbb, 0x27, 0x99, 0x33,
				       0xd9, 0xb4, 0x59, 0x73, 0xef, 0xea, 0xfc, 0xf3 };
	memcpy(pdb.guid, g, 16);
	bc_symfile_key_dir(&pdb, dir, sizeof(dir));
	CHECK_STR(dir, "1C19FDDB27BB3399D9B45973EFEAFCF31A");
}

TEST(real_store_lookups)
{
	NEED_SHARED();
	char text[4200];
	snprintf(text, sizeof(text), "%s/symbols/store", shared);
	struct bc_sympath *sp;
	REQUIRE_OK(bc_sympath_parse(text, NULL, &sp));
	// The image key of the store's lower-case directory "c9c030003b000".
	struct bc_symfile_key img = { .kind = BC_SYMFILE_IMAGE, .name = "amdppm.sys",
				      .timestamp = 0xc9c03000, .size_of_image = 0x3b000 };
	char *path = NULL, *tried = NULL;
	REQUIRE_OK(bc_sympath_find(sp, &img, NULL, &path, &tried));
	CHECK_CONTAINS(path, "amdppm.sys/c9c030003b000/amdppm.sys");
	free(path);
	char pdb_path[4300];
	snprintf(pdb_path, sizeof(pdb_path), "%s/symbols/store/amdppm.pdb/%s/amdppm.pdb", shared,
		 AMDPPM_PDB_KEY);
	struct bc_symfile_key pdb = pdb_key("amdppm.pdb", pdb_path);
	char dir[64];
	bc_symfile_key_dir(&pdb, dir, sizeof(dir));
	CHECK_STR(dir, AMDPPM_PDB_KEY);
	struct bc_symsrv_options opt = { .verify = verify_pdb };
	REQUIRE_OK(bc_sympath_find(sp, &pdb, &opt, &path, &tried));
	free(path);
	pdb.age++;  // no such PDB: the answer says where it looked
	struct bc_error *err = bc_sympath_find(sp, &pdb, &opt, &path, &tried);
	CHECK(err == &bc_not_found);
	CHECK(tried && strstr(tried, "amdppm.pdb"));
	free(tried);
	bc_sympath_free(sp);
}

// A symbol server for the test, in a child process: HTTP/1.0 on 127.0.0.1
// (a port the system picks), files under ROOT/store, "/redirect/..." answered
// with a 302 to the same path without the prefix (as msdl redirects to blob
// storage), every request line appended to ROOT/requests.log.
struct server {
	pid_t pid;
	int port;
	char root[256], log[300];
};

static void serve(int listener, const char *root, const char *log)
{
	for (;;) {
		int c = accept(listener, NULL, NULL);
		if (c < 0)
			continue;
		char req[2048];
		ssize_t n = recv(c, req, sizeof(req) - 1, 0);
		req[n > 0 ? n : 0] = 0;
		char path[1024] = "";
		sscanf(req, "GET %1023s", path);
		FILE *l = fopen(log, "a");
		if (l) {
			fprintf(l, "%s\n", path);
			fclose(l);
		}
		char head[2048];
		if (!strncmp(path, "/redirect/", 10)) {
			int h = snprintf(head, sizeof(head), "HTTP/1.0 302 Found\r\nLocation: %s\r\n"
				 "Content-Length: 0\r\n\r\n", path + 9);
			(void)!write(c, head, (size_t)h);
		} else {
			char file[1400];
			snprintf(file, sizeof(file), "%s/store%s", root, path);
			FILE *f = strstr(path, "..") ? NULL : fopen(file, "rb");
			if (!f) {
				static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n";
				(void)!write(c, nf, sizeof(nf) - 1);
			} else {
				fseek(f, 0, SEEK_END);
				long size = ftell(f);
				rewind(f);
				int h = snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\nContent-Length: %ld\r\n\r\n",
						 size);
				(void)!write(c, head, (size_t)h);
				char buf[65536];
				size_t got;
				while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
					(void)!write(c, buf, got);
				fclose(f);
			}
		}
		close(c);
	}
}

static bool start_server(struct server *s, const char *root)
{
	snprintf(s->root, sizeof(s->root), "%s", root);
	snprintf(s->log, sizeof(s->log), "%s/requests.log", root);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		return false;
	s->port = ntohs(a.sin_port);
	fflush(NULL);
	s->pid = fork();
	if (s->pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		serve(fd, s->root, s->log);
		_exit(0);
	}
	close(fd);
	return s->pid > 0;
}

static void stop_server(struct server *s)
{
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
}

static long count_requests(const struct server *s, const char *needle)
{
	FILE *f = fopen(s->log, "r");
	if (!f)
		return 0;
	char line[1024];
	long n = 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

TEST(downloads_from_a_local_server)
{
	NEED_SHARED();
	char root[] = "/tmp/bugcheck-symsrv-XXXXXX";
	REQUIRE(mkdtemp(root));
	char cmd[16384];
	// The store: amdppm.pdb under its key, and under a wrong key (age 2) to be
	// rejected; basic32.pdb only compressed (its key read from the decompressed copy).
	char amd[4300], key2[64];
	snprintf(amd, sizeof(amd), "%s/symbols/store/amdppm.pdb/%s/amdppm.pdb", shared,
		 AMDPPM_PDB_KEY);
	struct bc_symfile_key amd_key = pdb_key("amdppm.pdb", amd), wrong = amd_key;
	wrong.age = 2;
	bc_symfile_key_dir(&wrong, key2, sizeof(key2));
	char pd_[4300], plain[400];
	snprintf(pd_, sizeof(pd_), "%s/symbols/pdb/msvc/basic32.pd_", shared);
	snprintf(plain, sizeof(plain), "%s/basic32.pdb", root);
	REQUIRE_OK(bc_cab_extract(pd_, plain));
	struct bc_symfile_key basic = pdb_key("basic32.pdb", plain);
	char basic_dir[64];
	bc_symfile_key_dir(&basic, basic_dir, sizeof(basic_dir));
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd '%s'; mkdir -p store/amdppm.pdb/%s store/amdppm.pdb/%s "
		 "store/basic32.pdb/%s; cp '%s' store/amdppm.pdb/%s/; cp '%s' store/amdppm.pdb/%s/; "
		 "cp '%s' store/basic32.pdb/%s/basic32.pd_", root, AMDPPM_PDB_KEY, key2, basic_dir,
		 amd, AMDPPM_PDB_KEY, amd, key2, pd_, basic_dir);
	REQUIRE_EQ(run(cmd), 0);
	struct server srv;
	REQUIRE(start_server(&srv, root));
	char text[600];
	snprintf(text, sizeof(text), "srv*%s/cache*http://127.0.0.1:%d/redirect", root, srv.port);
	struct bc_sympath *sp;
	REQUIRE_OK(bc_sympath_parse(text, NULL, &sp));
	struct bc_symsrv_options opt = { .allow_network = true, .verify = verify_pdb,
					 .timeout_seconds = 20 };
	char *path = NULL, *tried = NULL;
	// A plain file, through a redirect.
	struct bc_error *first = bc_sympath_find(sp, &amd_key, &opt, &path, &tried);
	if (first)
		fprintf(stderr, "# tried: %s\n", tried ? tried : "(nothing)");
	REQUIRE_OK(first);
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", path, amd);
	CHECK_EQ(run(cmd), 0);
	CHECK_CONTAINS(path, "/cache/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb");
	free(path);
	// A second lookup is served by the cache: no new request.
	long before = count_requests(&srv, "amdppm.pdb/1C19");
	REQUIRE_OK(bc_sympath_find(sp, &amd_key, &opt, &path, &tried));
	free(path);
	CHECK_EQ(count_requests(&srv, "amdppm.pdb/1C19"), before);
	// Only the CAB exists: downloaded, decompressed, verified.
	REQUIRE_OK(bc_sympath_find(sp, &basic, &opt, &path, &tried));
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", path, plain);
	CHECK_EQ(run(cmd), 0);
	free(path);
	// Bytes that fail verification never reach the cache.
	struct bc_error *err = bc_sympath_find(sp, &wrong, &opt, &path, &tried);
	CHECK(err == &bc_not_found);
	free(tried);
	tried = NULL;
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s/cache/amdppm.pdb/%s' 2>/dev/null)\"", root,
		 key2);
	CHECK_EQ(run(cmd), 0);
	// A missing file is asked once, then remembered.
	struct bc_symfile_key missing = amd_key;
	missing.name = "missing.pdb";
	err = bc_sympath_find(sp, &missing, &opt, &path, &tried);
	CHECK(err == &bc_not_found);
	free(tried);
	tried = NULL;
	long asked = count_requests(&srv, "/redirect/missing.pd");
	CHECK_EQ(asked, 2);  // missing.pdb and missing.pd_ (each then redirected once)
	err = bc_sympath_find(sp, &missing, &opt, &path, &tried);
	CHECK(err == &bc_not_found);
	CHECK(tried && strstr(tried, "remembered"));
	free(tried);
	tried = NULL;
	CHECK_EQ(count_requests(&srv, "/redirect/missing.pd"), asked);
	// Offline: nothing is asked.
	struct bc_symsrv_options offline = opt;
	offline.allow_network = false;
	struct bc_symfile_key other = amd_key;
	other.name = "offline.pdb";
	err = bc_sympath_find(sp, &other, &offline, &path, &tried);
	CHECK(err == &bc_not_found);
	CHECK(tried && strstr(tried, "offline"));
	free(tried);
	tried = NULL;
	CHECK_EQ(count_requests(&srv, "offline.pdb"), 0);
	// Hostile names from a dump never become paths.
	static const char *const hostile[] = { "../../evil.pdb", "C:\\x.pdb", "a/b.pdb",
					       "x\x1b[31m.pdb", "..", "" };
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct bc_symfile_key h = amd_key;
		h.name = hostile[i];
		err = bc_sympath_find(sp, &h, &opt, &path, &tried);
		CHECK(err && err->code == BC_ERR_INVALID_ARG);
		bc_error_destroy(err);
	}
	CHECK_EQ(count_requests(&srv, "evil"), 0);
	snprintf(cmd, sizeof(cmd), "test ! -e '%s/evil.pdb' && test ! -e /tmp/evil.pdb", root);
	CHECK_EQ(run(cmd), 0);
	bc_sympath_free(sp);
	// Several at once, into a fresh cache: the two that exist arrive, the third does not.
	snprintf(text, sizeof(text), "srv*%s/cache2*http://127.0.0.1:%d", root, srv.port);
	REQUIRE_OK(bc_sympath_parse(text, NULL, &sp));
	struct bc_symfile_key many[3] = { amd_key, basic, amd_key };
	many[2].name = "absent.pdb";
	char *paths[3];
	REQUIRE_OK(bc_sympath_find_many(sp, many, 3, &opt, 3, paths));
	CHECK(paths[0] && strstr(paths[0], "/cache2/amdppm.pdb/"));
	CHECK(paths[1] && strstr(paths[1], "/cache2/basic32.pdb/"));
	CHECK(paths[2] == NULL);
	for (int i = 0; i < 3; i++)
		free(paths[i]);
	bc_sympath_free(sp);
	stop_server(&srv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	run(cmd);
}

// Local store layouts built in a temporary directory: the two-tier layout
// (index2.txt, NA/NAME/KEY/NAME), file.ptr inside the store (followed) and
// pointing outside it (refused), and a lower-case image key directory.
TEST(store_layouts)
{
	char root[] = "/tmp/bugcheck-store-XXXXXX";
	REQUIRE(mkdtemp(root));
	char cmd[8192];
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd '%s'; mkdir -p two/am/amdppm.pdb/00112233445566778899AABBCCDDEEFF1 "
		 "ptr/a.pdb/00112233445566778899AABBCCDDEEFF1 ptr/real out "
		 "ptr/b.pdb/00112233445566778899AABBCCDDEEFF1 img/drv.sys/5a5a5a5a3000; "
		 "touch two/index2.txt; echo two > two/am/amdppm.pdb/00112233445566778899AABBCCDDEEFF1/amdppm.pdb; "
		 "echo real > ptr/real/a.pdb; echo outside > out/b.pdb; "
		 "echo \"PATH:%s/ptr/real/a.pdb\" > ptr/a.pdb/00112233445566778899AABBCCDDEEFF1/file.ptr; "
		 "echo \"PATH:%s/out/b.pdb\" > ptr/b.pdb/00112233445566778899AABBCCDDEEFF1/file.ptr; "
		 "echo img > img/drv.sys/5a5a5a5a3000/drv.sys", root, root, root);
	REQUIRE_EQ(run(cmd), 0);
	struct bc_symfile_key key = { .kind = BC_SYMFILE_PDB, .name = "amdppm.pdb", .age = 1 };
	static const uint8_t g[16] = { 0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66,
				       0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	memcpy(key.guid, g, 16);
	char text[1024], *path = NULL, *tried = NULL;
	snprintf(text, sizeof(text), "%s/two;%s/ptr;%s/img", root, root, root);
	struct bc_sympath *sp;
	REQUIRE_OK(bc_sympath_parse(text, NULL, &sp));
	REQUIRE_OK(bc_sympath_find(sp, &key, NULL, &path, &tried));
	CHECK_CONTAINS(path, "/two/am/amdppm.pdb/");
	free(path);
	key.name = "a.pdb";
	REQUIRE_OK(bc_sympath_find(sp, &key, NULL, &path, &tried));
	CHECK_CONTAINS(path, "/ptr/real/a.pdb");
	free(path);
	key.name = "b.pdb";
	struct bc_error *err = bc_sympath_find(sp, &key, NULL, &path, &tried);
	CHECK(err == &bc_not_found);
	CHECK(tried && strstr(tried, "outside its store"));
	free(tried);
	tried = NULL;
	struct bc_symfile_key img = { .kind = BC_SYMFILE_IMAGE, .name = "drv.sys",
				      .timestamp = 0x5a5a5a5a, .size_of_image = 0x3000 };
	REQUIRE_OK(bc_sympath_find(sp, &img, NULL, &path, &tried));
	CHECK_CONTAINS(path, "/img/drv.sys/5a5a5a5a3000/drv.sys");
	free(path);
	bc_sympath_free(sp);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	run(cmd);
}

TEST_MAIN()
