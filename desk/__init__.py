"""The SPRAVATO Paperwork Desk domain package (never imports Streamlit)."""
