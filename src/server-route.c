/*
 * server-route.c: the one table of API methods.
 *
 * Adding a method = one handler file (api-*.c), one line here, one line in
 * Makefile.am. Paths are Connect's: /autokitteh.<pkg>.v1.<Service>/<Method>.
 * Operational routes (/healthz, /readyz, /metrics) are in server-http.c.
 */
#include "autokittehd.h"

#include <string.h>

static const struct api_method api_methods[] = {
	{ "/autokitteh.system.v1.SystemService/Status",
	  api_system_status_fields, api_system_status },
	{ "/autokitteh.system.v1.SystemService/Config",
	  api_system_config_fields, api_system_config },
	{ "/autokitteh.system.v1.TokensService/Create",
	  api_token_create_fields, api_token_create },
	{ "/autokitteh.system.v1.TokensService/List",
	  api_token_list_fields, api_token_list },
	{ "/autokitteh.system.v1.TokensService/Revoke",
	  api_token_revoke_fields, api_token_revoke },
	{ "/autokitteh.projects.v1.ProjectsService/Create",
	  api_project_create_fields, api_project_create },
	{ "/autokitteh.projects.v1.ProjectsService/Get",
	  api_project_get_fields, api_project_get },
	{ "/autokitteh.projects.v1.ProjectsService/List",
	  api_project_list_fields, api_project_list },
	{ "/autokitteh.projects.v1.ProjectsService/Delete",
	  api_project_delete_fields, api_project_delete },
	{ "/autokitteh.projects.v1.ProjectsService/SetResources",
	  api_project_set_resources_fields, api_project_set_resources },
	{ "/autokitteh.projects.v1.ProjectsService/DownloadResources",
	  api_project_download_resources_fields, api_project_download_resources },
	{ "/autokitteh.projects.v1.ProjectsService/Build",
	  api_project_build_fields, api_project_build },
	{ "/autokitteh.builds.v1.BuildsService/Get",
	  api_build_get_fields, api_build_get },
	{ "/autokitteh.builds.v1.BuildsService/List",
	  api_build_list_fields, api_build_list },
	{ "/autokitteh.builds.v1.BuildsService/Delete",
	  api_build_delete_fields, api_build_delete },
	{ "/autokitteh.builds.v1.BuildsService/Download",
	  api_build_download_fields, api_build_download },
	{ "/autokitteh.builds.v1.BuildsService/Save",
	  api_build_save_fields, api_build_save },
	{ "/autokitteh.deployments.v1.DeploymentsService/Create",
	  api_deployment_create_fields, api_deployment_create },
	{ "/autokitteh.deployments.v1.DeploymentsService/Activate",
	  api_deployment_id_fields, api_deployment_activate },
	{ "/autokitteh.deployments.v1.DeploymentsService/Deactivate",
	  api_deployment_id_fields, api_deployment_deactivate },
	{ "/autokitteh.deployments.v1.DeploymentsService/Test",
	  api_deployment_id_fields, api_deployment_test },
	{ "/autokitteh.deployments.v1.DeploymentsService/Get",
	  api_deployment_id_fields, api_deployment_get },
	{ "/autokitteh.deployments.v1.DeploymentsService/List",
	  api_deployment_list_fields, api_deployment_list },
	{ "/autokitteh.deployments.v1.DeploymentsService/Delete",
	  api_deployment_id_fields, api_deployment_delete },
	{ "/autokitteh.triggers.v1.TriggersService/Get",
	  api_trigger_get_fields, api_trigger_get },
	{ "/autokitteh.triggers.v1.TriggersService/List",
	  api_trigger_list_fields, api_trigger_list },
	{ "/autokitteh.triggers.v1.TriggersService/Create",
	  api_trigger_write_fields, api_trigger_write },
	{ "/autokitteh.triggers.v1.TriggersService/Update",
	  api_trigger_write_fields, api_trigger_write },
	{ "/autokitteh.triggers.v1.TriggersService/Delete",
	  api_trigger_write_fields, api_trigger_write },
	{ "/autokitteh.vars.v1.VarsService/Set",
	  api_var_set_fields, api_var_set },
	{ "/autokitteh.vars.v1.VarsService/Get",
	  api_var_get_fields, api_var_get },
	{ "/autokitteh.vars.v1.VarsService/Delete",
	  api_var_delete_fields, api_var_delete },
	{ "/autokitteh.events.v1.EventsService/Get",
	  api_event_get_fields, api_event_get },
	{ "/autokitteh.events.v1.EventsService/List",
	  api_event_list_fields, api_event_list },
	{ "/autokitteh.events.v1.EventsService/Save",
	  api_event_save_fields, api_event_save },
	{ "/autokitteh.sessions.v1.SessionsService/List",
	  api_session_list_fields, api_session_list },
	{ "/autokitteh.sessions.v1.SessionsService/Get",
	  api_session_get_fields, api_session_get },
	{ "/autokitteh.sessions.v1.SessionsService/GetLog",
	  api_session_get_log_fields, api_session_get_log },
	{ "/autokitteh.sessions.v1.SessionsService/GetPrints",
	  api_session_get_prints_fields, api_session_get_prints },
	{ "/autokitteh.sessions.v1.SessionsService/Stop",
	  api_session_stop_fields, api_session_stop },
	{ "/autokitteh.sessions.v1.SessionsService/Delete",
	  api_session_delete_fields, api_session_delete },
	{ "/autokitteh.sessions.v1.SessionsService/Start",
	  api_session_start_fields, api_session_start },
	{ "/autokitteh.apply.v1.ApplyService/Apply", api_apply_fields, api_apply },
	{ "/autokitteh.store.v1.StoreService/Get",
	  api_store_get_fields, api_store_get },
	{ "/autokitteh.store.v1.StoreService/List",
	  api_store_list_fields, api_store_list },
	{ "/autokitteh.store.v1.StoreService/Mutate",
	  api_store_mutate_fields, api_store_mutate },
	{ "/autokitteh.store.v1.StoreService/Publish",
	  api_store_publish_fields, api_store_publish },
	{ "/autokitteh.store.v1.StoreService/Unpublish",
	  api_store_publish_fields, api_store_publish },
};

const struct api_method *
route_find_method(const char *path)
{
	for (size_t i = 0; i < nitems(api_methods); i++) {
		if (strcmp(api_methods[i].path, path) == 0)
			return &api_methods[i];
	}
	return NULL;
}
