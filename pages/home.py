"""Today: what needs the signed-in user's attention."""

from ui.guard import require_role

user = require_role("pages/home.py")

import streamlit as st  # noqa: E402

st.title("Today")
st.write(f"Signed in as **{user.display_name}** ({', '.join(user.roles)}).")
