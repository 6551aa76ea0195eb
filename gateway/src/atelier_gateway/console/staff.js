// Staff and roles (the admin's): the staff accounts, and setting an account's roles. The roles
// offered are identity's, as its OpenAPI document lists them (`StaffAccountChange.roles`).

import { call, fieldChoices, get } from "./api.js";
import { V1, write } from "./kit.js";
import { form, h, table } from "./ui.js";

export async function staff(root, ctx) {
  root.append(h("h1", {}, "Staff and roles"));
  const [page, roleNames] = await Promise.all([get(`${V1}/staff/accounts`, { limit: 100, offset: ctx.query.offset }),
                                               fieldChoices("StaffAccountChange", "roles")]);
  root.append(table("Staff accounts", [{ label: "Email", value: (a) => a.email }, { label: "Roles", value: (a) => a.roles.join(", ") }], page.results));
  if (!roleNames) {
    root.append(h("p", { class: "muted" }, "Roles cannot be set just now: identity's API description is not available."));
    return;
  }
  root.append(form({
    id: "staff-roles", legend: "Set an account's roles (none: not staff any more)", submit: "Save roles",
    fields: [{ name: "email", label: "Account email", type: "email", required: true },
             ...roleNames.map((r) => ({ name: r, label: r, type: "checkbox" }))],
    onSubmit: async (values) => {
      const roles = roleNames.filter((r) => values[r]);
      await write(ctx, () => call("POST", `${V1}/staff/accounts`, { body: { email: values.email, roles } }),
        (a) => `${a.email}: ${a.roles.join(", ") || "no staff role"}.`);
    },
  }));
}
