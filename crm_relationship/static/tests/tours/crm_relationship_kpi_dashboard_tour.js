import { registry } from "@web/core/registry";

const card = (name) => `.o_crm_relationship_kpi_dashboard .o_kanban_record:contains('${name}')`;

registry.category("web_tour.tours").add("crm_relationship_kpi_dashboard_tour", {
    steps: () => [
        {
            content: "The retention rate, on target, is a green card with a green badge",
            trigger: `${card("Retention rate")}.o_kanban_color_10 .o_kpi_on_target`,
        },
        {
            content: "It shows its latest value and its rise since the previous month",
            trigger: `${card("Retention rate")} .o_kpi_change.text-success .fa-arrow-up`,
        },
        {
            content: "Its trend is drawn",
            trigger: `${card("Retention rate")} .o_dashboard_graph canvas`,
        },
        {
            content: "Active customers, far below their target, are a red card",
            trigger: `${card("Active customers")}.o_kanban_color_1 .o_kpi_off_target`,
        },
        {
            content: "A KPI never measured says so instead of showing 0",
            trigger: `${card("Net promoter score")} .o_kpi_no_value`,
        },
        {
            content: "Open the retention rate per tier",
            trigger: `${card("Retention rate")} button[name='action_view_tier_breakdown']`,
            run: "click",
        },
        {
            content: "The breakdown opens as a graph",
            trigger: ".o_graph_view .o_graph_renderer canvas",
        },
        {
            content: "Named after the KPI and the breakdown",
            trigger: ".o_breadcrumb:contains('Retention rate by tier')",
        },
    ],
});
