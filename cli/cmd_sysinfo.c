// !sysinfo machineid | smbios | cpuinfo, and .enumtag: the machine as the
// secondary data of a small memory dump describes it (bugcheck/sysinfo.h).
// Layouts after WinDbg's: "Name = value" lines for machineid, the processor
// key's "Name = REG_TYPE value" lines for cpuinfo.
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bugcheck/sysinfo.h"
#include "cmd.h"
#include "cmd_expr.h"
#include "format.h"

static void field(struct bc_session *s, const char *name, const char *value)
{
	if (!value)
		return;
	fprintf(s->out, "%s = ", name);
	bc_put_escaped(s->out, value, 0);
	fputc('\n', s->out);
}

// The SMBIOS tables, or NULL after saying why there are none.
static struct bc_smbios *load_smbios(struct bc_session *s, const char *cmd)
{
	const struct bc_dump_blob *blob = bc_target_find_blob(s->target, &bc_tag_smbios);
	if (!blob) {
		fprintf(s->out, "%s: not in this dump (no SMBIOS tables in its secondary data)\n",
			cmd);
		return NULL;
	}
	struct bc_smbios *smbios;
	struct bc_error *err = bc_smbios_parse(blob->data, blob->size, &smbios);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return NULL;
	}
	return smbios;
}

static void smbios_note(struct bc_session *s, const struct bc_smbios *smbios)
{
	if (smbios->note[0])
		fprintf(s->out, "NOTE: the SMBIOS table is damaged: %s\n", smbios->note);
}

static int machine_id(struct bc_session *s, const char *cmd)
{
	struct bc_smbios *smbios = load_smbios(s, cmd);
	if (!smbios)
		return 1;
	struct bc_machine_id id;
	bc_smbios_machine_id(smbios, &id);
	fprintf(s->out, "Machine ID Information [From Smbios %u.%u, DMIVersion %u, Size=%" PRIu32
		"]\n", smbios->major, smbios->minor, smbios->dmi_revision, smbios->table_length);
	if (id.has_bios_release) {
		fprintf(s->out, "BiosMajorRelease = %u\n", id.bios_major_release);
		fprintf(s->out, "BiosMinorRelease = %u\n", id.bios_minor_release);
	}
	field(s, "BiosVendor", id.bios_vendor);
	field(s, "BiosVersion", id.bios_version);
	field(s, "BiosReleaseDate", id.bios_release_date);
	field(s, "SystemManufacturer", id.system_manufacturer);
	field(s, "SystemProductName", id.system_product_name);
	field(s, "SystemFamily", id.system_family);
	field(s, "SystemVersion", id.system_version);
	field(s, "SystemSKU", id.system_sku);
	field(s, "BaseBoardManufacturer", id.baseboard_manufacturer);
	field(s, "BaseBoardProduct", id.baseboard_product);
	field(s, "BaseBoardVersion", id.baseboard_version);
	smbios_note(s, smbios);
	bc_smbios_free(smbios);
	return 0;
}

// DSP0134's names of the structure types a machine commonly has.
static const char *smbios_type_name(uint8_t type)
{
	switch (type) {
	case 0: return "BIOS Information";
	case 1: return "System Information";
	case 2: return "Base Board Information";
	case 3: return "System Enclosure";
	case 4: return "Processor Information";
	case 7: return "Cache Information";
	case 8: return "Port Connector Information";
	case 9: return "System Slots";
	case 11: return "OEM Strings";
	case 12: return "System Configuration Options";
	case 13: return "BIOS Language Information";
	case 16: return "Physical Memory Array";
	case 17: return "Memory Device";
	case 19: return "Memory Array Mapped Address";
	case 20: return "Memory Device Mapped Address";
	case 32: return "System Boot Information";
	case 127: return "End-of-Table";
	}
	return type >= 128 ? "OEM-specific" : "Other";
}

static int smbios_tables(struct bc_session *s, const char *cmd)
{
	struct bc_smbios *smbios = load_smbios(s, cmd);
	if (!smbios)
		return 1;
	fprintf(s->out, "[SMBIOS Data Tables v%u.%u]\n[DMI Version - %u]\n[Table Size - %" PRIu32
		" bytes]\n", smbios->major, smbios->minor, smbios->dmi_revision,
		smbios->table_length);
	for (size_t i = 0; i < smbios->count; i++) {
		const struct bc_smbios_structure *st = &smbios->structures[i];
		fprintf(s->out, "\n[%s (Type %u) - Length %u - Handle %04xh]\n",
			smbios_type_name(st->type), st->type, st->length, st->handle);
		for (size_t k = 0; k < st->string_count; k++) {
			fprintf(s->out, "  String %-3zu ", k + 1);
			bc_put_escaped(s->out, st->strings[k], 0);
			fputc('\n', s->out);
		}
	}
	smbios_note(s, smbios);
	bc_smbios_free(smbios);
	return 0;
}

// A value as regedit exports it: strings as text, numbers in decimal
// (REG_DWORD) or hex (REG_QWORD), anything else as comma-separated bytes.
static void registry_value(struct bc_session *s, const struct bc_registry_value *v)
{
	enum { MAX_BYTES_SHOWN = 256 };
	const char *type = bc_registry_type_name(v->type);
	bc_put_escaped(s->out, v->name, 0);
	if (type)
		fprintf(s->out, " = %s ", type);
	else
		fprintf(s->out, " = type %" PRIu32 " ", v->type);
	char *text = bc_registry_string(v);
	if (text) {
		bc_put_escaped(s->out, text, 0);
		free(text);
	} else if (v->type == 4 && v->size == 4) {
		fprintf(s->out, "%" PRIu32, (uint32_t)(v->data[0] | v->data[1] << 8 |
						      v->data[2] << 16 | (uint32_t)v->data[3] << 24));
	} else if (v->type == 11 && v->size == 8) {
		uint64_t q = 0;
		for (int i = 7; i >= 0; i--)
			q = q << 8 | v->data[i];
		fprintf(s->out, "%" PRIx64, q);
	} else {
		for (uint32_t i = 0; i < v->size && i < MAX_BYTES_SHOWN; i++)
			fprintf(s->out, "%s%x", i ? "," : "", v->data[i]);
		if (v->size > MAX_BYTES_SHOWN)
			fprintf(s->out, ",... (%" PRIu32 " bytes)", v->size);
	}
	fputc('\n', s->out);
}

static int cpu_info(struct bc_session *s, const char *cmd)
{
	const struct bc_dump_blob *blob = bc_target_find_blob(s->target, &bc_tag_cpu_registry);
	if (!blob) {
		fprintf(s->out, "%s: not in this dump (no processor registry values in its "
			"secondary data)\n", cmd);
		return 1;
	}
	struct bc_registry_value *values;
	size_t n;
	const char *note;
	struct bc_error *err = bc_registry_values_parse(blob->data, blob->size, &values, &n, &note);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	fputs("[CPU Information]\n", s->out);
	for (size_t i = 0; i < n; i++)
		registry_value(s, &values[i]);
	if (note)
		fprintf(s->out, "NOTE: %s\n", note);
	bc_registry_values_free(values, n);
	return 0;
}

int cmd_sysinfo(struct bc_session *s, const char *cmd, const char *args)
{
	while (*args == ' ')
		args++;
	if (!strcmp(args, "machineid"))
		return machine_id(s, cmd);
	if (!strcmp(args, "smbios"))
		return smbios_tables(s, cmd);
	if (!strcmp(args, "cpuinfo"))
		return cpu_info(s, cmd);
	fprintf(s->out, "%s: use !sysinfo machineid, !sysinfo smbios or !sysinfo cpuinfo\n", cmd);
	return 1;
}

// What a tag's blob is, where its contents say so.
static const char *tag_name(const struct bc_guid *tag)
{
	if (!memcmp(tag, &bc_tag_smbios, sizeof(*tag)))
		return "SMBIOS tables";
	if (!memcmp(tag, &bc_tag_cpu_registry, sizeof(*tag)))
		return "processor registry values";
	return NULL;
}

// .enumtag: every secondary data blob, its tag, size and first bytes.
int cmd_enumtag(struct bc_session *s, const char *cmd, const char *args)
{
	(void)args;
	enum { BYTES_SHOWN = 32 };
	const struct bc_dump_blob *blobs;
	size_t n;
	struct bc_error *err = bc_target_blobs(s->target, &blobs, &n);
	if (err && !n) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		char guid[39];
		bc_guid_format(&blobs[i].tag, guid);
		const char *name = tag_name(&blobs[i].tag);
		fprintf(s->out, "%s - 0x%" PRIx32 " bytes%s%s%s\n", guid, blobs[i].size,
			name ? " (" : "", name ? name : "", name ? ")" : "");
		for (uint32_t off = 0; off < blobs[i].size && off < BYTES_SHOWN; off += 16) {
			fputs(" ", s->out);
			for (uint32_t k = off; k < off + 16; k++) {
				if (k < blobs[i].size)
					fprintf(s->out, " %02X", blobs[i].data[k]);
				else
					fputs("   ", s->out);
			}
			fputs("  ", s->out);
			for (uint32_t k = off; k < off + 16 && k < blobs[i].size; k++) {
				uint8_t c = blobs[i].data[k];
				fputc(c >= 0x20 && c < 0x7f ? c : '.', s->out);
			}
			fputc('\n', s->out);
		}
	}
	if (!n)
		fputs("This dump has no secondary data.\n", s->out);
	if (err) {
		bc_cmd_print_error(s, cmd, err);
		return 1;
	}
	return 0;
}
