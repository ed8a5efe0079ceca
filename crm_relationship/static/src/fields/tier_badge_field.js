import { Component } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

/**
 * A many2one shown as a badge in the colour of the record it points to
 * (the customer's tier), read from the field named by the `color_field` option.
 */
export class TierBadgeField extends Component {
    static template = "crm_relationship.TierBadgeField";
    static props = {
        ...standardFieldProps,
        colorField: { type: String, optional: true },
    };

    get label() {
        const value = this.props.record.data[this.props.name];
        return value ? value.display_name || value[1] : "";
    }

    get colorClass() {
        const color = this.props.colorField ? this.props.record.data[this.props.colorField] : 0;
        return `o_tag_color_${color || 0}`;
    }
}

registry.category("fields").add("crm_relationship_tier_badge", {
    component: TierBadgeField,
    displayName: "Tier badge",
    supportedTypes: ["many2one"],
    extractProps: ({ options }) => ({ colorField: options.color_field }),
});
